using System.Diagnostics;
using System.Security.Cryptography;
using Npgsql;

namespace FedCoLLM.Cli.Lab;

/// <summary>
/// The lab's own PostgreSQL server: a fresh cluster (initdb) in the lab's directory, run as the postgres user inside the
/// lab host <see cref="Host"/>, listening on that host's bridge address. Nodes reach it as <c>postgres:5432</c>, as pods
/// reach a Service; the harness, outside the namespaces, reaches it through its Unix socket. The password is made
/// for this lab and never written anywhere but the cluster's own files.
/// </summary>
public sealed class LabPostgres : IDisposable
{
    public const string Host = "postgres";
    const string User = "fedcollm";

    readonly Process server;
    readonly string socketDirectory;
    readonly string password;

    LabPostgres(Process server, string socketDirectory, string password)
    {
        this.server = server;
        this.socketDirectory = socketDirectory;
        this.password = password;
    }

    /// <summary>Why the lab cannot run PostgreSQL here, or null.</summary>
    public static string? Unavailable() =>
        BinDirectory() is null ? "PostgreSQL's server binaries are not installed (Debian: postgresql)" : null;

    static string? BinDirectory() =>
        Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").OrderDescending().Select(d => Path.Combine(d, "bin")).FirstOrDefault(d => File.Exists(Path.Combine(d, "initdb")))
            : null;

    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public static async Task<LabPostgres> Start(LabNetwork network, string directory, CancellationToken cancellation)
    {
        var bin = BinDirectory() ?? throw new InvalidOperationException(Unavailable());
        var data = Path.Combine(directory, "data");
        var sockets = Path.Combine(directory, "socket");
        Directory.CreateDirectory(data);
        Directory.CreateDirectory(sockets);
        var password = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
        var passwordFile = Path.Combine(directory, "password");
        await File.WriteAllTextAsync(passwordFile, password, cancellation);
        // The server runs as postgres: it must own its directories and reach them.
        for (var d = directory; !string.IsNullOrEmpty(d) && d != "/"; d = Path.GetDirectoryName(d))
            File.SetUnixFileMode(d, File.GetUnixFileMode(d) | UnixFileMode.OtherExecute);
        await Check(cancellation, "chown", "-R", "postgres:postgres", directory);
        await Check(cancellation, "runuser", "-u", "postgres", "--", Path.Combine(bin, "initdb"), "-D", data, "-U", User, "--pwfile", passwordFile,
            "--auth-local=scram-sha-256", "--auth-host=scram-sha-256", "-E", "UTF8", "--no-instructions");
        File.Delete(passwordFile);
        await File.AppendAllTextAsync(Path.Combine(data, "pg_hba.conf"), $"host all all {LabNetwork.Subnet}.0/24 scram-sha-256\n", cancellation);

        var address = network.Hosts[Host].Address;
        var start = network.Wrap(Host, new ProcessStartInfo("runuser")
        {
            ArgumentList = { "-u", "postgres", "--", Path.Combine(bin, "postgres"), "-D", data, "-c", $"listen_addresses={address}", "-c", "port=5432",
                "-c", $"unix_socket_directories={sockets}", "-c", "fsync=off", "-c", "max_connections=200" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        }, []);
        var server = Process.Start(start)!;
        server.OutputDataReceived += (_, _) => { };
        server.ErrorDataReceived += (_, _) => { };
        server.BeginOutputReadLine();
        server.BeginErrorReadLine();
        var lab = new LabPostgres(server, sockets, password);
        for (var i = 0; ; i++)
        {
            try
            {
                await using var c = new NpgsqlConnection(lab.Admin);
                await c.OpenAsync(cancellation);
                return lab;
            }
            catch (NpgsqlException) when (i < 100 && !server.HasExited)
            {
                await Task.Delay(200, cancellation);
            }
        }
    }

    /// <summary>For the harness, outside the namespaces: the Unix socket.</summary>
    public string Admin => new NpgsqlConnectionStringBuilder { Host = socketDirectory, Port = 5432, Username = User, Password = password, Database = "postgres", Pooling = false }.ConnectionString;

    /// <summary>For a node inside the lab: the server by its lab hostname.</summary>
    public string ForNodes(string database) =>
        new NpgsqlConnectionStringBuilder { Host = Host, Port = 5432, Username = User, Password = password, Database = database }.ConnectionString;

    static Task Check(CancellationToken cancellation, params string[] command) =>
        ShortCommand.CheckAsync("Lab PostgreSQL", command, TimeSpan.FromMinutes(2), cancellation);

    public void Dispose()
    {
        try
        {
            if (!server.HasExited)
            {
                server.Kill(entireProcessTree: true);
                server.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException) { }
        server.Dispose();
    }
}
