using System.Globalization;
using System.Text.Json;
using FedCoLLM.Actors.Simulation;
using Spectre.Console;
using Spectre.Console.Cli;

namespace FedCoLLM.Cli.Bench;

/// <summary>
/// `fedcollm bench round --simulated`: the orchestration overhead of a FedCoLLM round at the built-in job's sizes.
/// The measurement is <see cref="OverheadBench"/>; this only prints it.
/// </summary>
static class SimulatedRoundBench
{
    public static ValidationResult Validate(RoundBenchSettings s) =>
        s.Clients < 1 ? ValidationResult.Error($"--clients {s.Clients}: at least 1.")
        : s.Rounds < 1 ? ValidationResult.Error($"--rounds {s.Rounds}: at least 1.")
        : !(s.RealRoundSeconds > 0) ? ValidationResult.Error("--simulated needs --real-round-seconds, a positive number: the time of a real round of the built-in job (say where it comes from with --real-round-source).")
        : ValidationResult.Success();

    public static async Task<int> RunAsync(CommandContext context, RoundBenchSettings s)
    {
        var dir = Path.GetFullPath(Path.Combine(s.Out, DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture)));
        var result = await OverheadBench.RunAsync(new OverheadBench.Settings(s.Clients, s.Rounds, s.RealRoundSeconds, s.RealRoundSource, dir)
        {
            Journal = BenchJournal.From(s.Postgres),
        }, line => AnsiConsole.WriteLine(line));
        AnsiConsole.WriteLine($"{result.Clients} clients, {result.Rounds} rounds on {result.Journal}: median round {result.MedianRoundSeconds * 1000:F0} ms " +
            $"(steps {result.MedianStepSecondsPerRound * 1000:F0} ms of it); overhead_fraction {result.OverheadFraction:P2} of a {result.RealRoundSeconds:F1} s real round " +
            $"({result.OverheadFractionExcludingStubIo:P2} without the steps' own blob I/O); exactly once: {result.ExactlyOnce}");
        AnsiConsole.WriteLine($"per round: {result.JournalWritesPerRound} journal writes ({result.JournalWriteSecondsPerRound * 1000:F0} ms summed, median {result.JournalWriteMedianMs:F1} ms), " +
            $"{result.BytesTransferredPerRound / 1024.0:F0} KiB fetched in {result.FetchesPerRound} transfers ({result.FetchSecondsPerRound * 1000:F0} ms summed), " +
            $"server step dispatch median {result.ServerDispatchMedianMs:F1} ms, client start median {result.ClientStartMedianMs:F0} ms");
        foreach (var p in result.Phases) AnsiConsole.WriteLine($"  {p.Phase,-18} {p.MedianMs,8:F1} ms (dispatch {p.DispatchMedianMs:F1} ms, step {p.StepMedianMs:F1} ms, step end → journaled {p.CompletionMedianMs:F1} ms)");
        if (s.Json is not null) BenchJson.Write(s.Json, context, result);
        return result.ExactlyOnce ? 0 : 1;
    }
}

/// <summary>The journal a simulation bench writes to: SQLite in its directory, or a fresh database on FEDCOLLM_POSTGRES.</summary>
static class BenchJournal
{
    public static SimulationJournal From(bool postgres) => !postgres ? SimulationJournal.Sqlite
        : new SimulationJournal(Environment.GetEnvironmentVariable("FEDCOLLM_POSTGRES") is { Length: > 0 } admin ? admin
            : throw new ArgumentException("--postgres needs FEDCOLLM_POSTGRES: an Npgsql connection string for a role that may create databases (the bench creates a fresh one and drops it)."));
}

/// <summary>The bench's JSON file: the command, machine, date and load, then the result (snake_case keys).</summary>
static class BenchJson
{
    public static void Write(string path, CommandContext context, object result)
    {
        var load = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "unknown";
        var doc = new
        {
            command = "fedcollm " + string.Join(' ', context.Arguments),
            date = DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture),
            machine = $"{Environment.ProcessorCount} cores, {Environment.OSVersion}, .NET {Environment.Version}",
            load_average_at_end = load,
            result,
        };
        File.WriteAllText(path, JsonSerializer.Serialize(doc, new JsonSerializerOptions
        {
            WriteIndented = true,
            PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
            NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
        }));
    }
}
