using Npgsql;

namespace FedCoLLM.Cli.Chaos;

/// <summary>A fresh PostgreSQL database for one chaos trial (the role in FEDCOLLM_POSTGRES needs CREATEDB); dropped
/// afterwards unless the trial failed, so its journal can be inspected.</summary>
public sealed class ChaosDatabase : IDisposable
{
    readonly string admin;

    ChaosDatabase(string admin, string name)
    {
        this.admin = admin;
        Name = name;
        ConnectionString = new NpgsqlConnectionStringBuilder(admin) { Database = name, Pooling = false }.ConnectionString;
    }

    public string Name { get; }
    public string ConnectionString { get; }
    public bool KeepOnDispose { get; set; }

    public static ChaosDatabase Create(string admin, string name)
    {
        using (var connection = new NpgsqlConnection(admin))
        {
            connection.Open();
            Execute(connection, $"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
            Execute(connection, $"CREATE DATABASE \"{name}\"");
        }
        return new ChaosDatabase(admin, name);
    }

    public void Dispose()
    {
        if (KeepOnDispose) return;
        using var connection = new NpgsqlConnection(admin);
        connection.Open();
        Execute(connection, $"DROP DATABASE IF EXISTS \"{Name}\" WITH (FORCE)");
    }

    static void Execute(NpgsqlConnection connection, string sql)
    {
        using var command = new NpgsqlCommand(sql, connection);
        command.ExecuteNonQuery();
    }
}
