using System.ComponentModel;
using FedCoLLM.Actors.Blobs;
using FedCoLLM.Actors.Identity;
using FedCoLLM.Cli.Federation;
using Spectre.Console;
using Spectre.Console.Cli;

namespace FedCoLLM.Cli.Identity;

/// <summary>
/// <c>fedcollm audit JOB</c>: re-verifies a job's journal offline (<see cref="LedgerAudit"/>): every accepted update's
/// signature, every FedAvg aggregate recomputed from the accepted updates' blobs, the chain of adapter hashes from round
/// to round, every blob's integrity. Exit 0: the ledger holds; 1: a broken link (named); 2: no such journal or job;
/// 3: the ledger holds but the job enrols no keys, so its updates are unattributed (0 with --allow-unsigned).
/// </summary>
public sealed class AuditCommand : AsyncCommand<AuditCommand.Settings>
{
    public const int Broken = 1;
    public const int NotFound = 2;
    public const int Unsigned = 3;

    public sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "<JOB>")] [Description("The job id.")]
        public string JobId { get; init; } = "";
        [CommandOption("--out <DIR>")] [Description("The run directory of `fedcollm run` (its journal.db and blobs/).")] [DefaultValue("runs/fedcollm")]
        public string Out { get; init; } = "runs/fedcollm";
        [CommandOption("--config <FILE>")] [Description("HOCON files naming the journal instead (e.g. serialization.conf persistence-postgres.conf with FEDCOLLM_POSTGRES).")]
        public string[] Config { get; init; } = [];
        [CommandOption("--blobs <DIR>")] [Description("The blob store holding the job's adapters (a server node's --blobs). Default: DIR/blobs under --out.")]
        public string? Blobs { get; init; }
        [CommandOption("--allow-unsigned")] [Description("Exit 0 for a job that enrols no client keys when everything else holds.")]
        public bool AllowUnsigned { get; init; }
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings s, CancellationToken cancellation)
    {
        if (s.Config.Length == 0 && !File.Exists(LocalCluster.JournalPath(s.Out)))
        {
            AnsiConsole.MarkupLine($"[red]--out {Markup.Escape(s.Out)}:[/] no journal.db there; pass the directory a `fedcollm run --out …` wrote, or --config for PostgreSQL.");
            return NotFound;
        }
        var blobDirectory = s.Blobs ?? Path.Combine(s.Out, "blobs");
        if (!Directory.Exists(blobDirectory))
        {
            AnsiConsole.MarkupLine($"[red]--blobs {Markup.Escape(blobDirectory)}:[/] no such directory; pass the blob store of a server node.");
            return NotFound;
        }
        var config = LocalCluster.LoadConfig(s.Out, s.Config.Length > 0 ? s.Config : ["serialization.conf", "persistence-sqlite.conf"]);
        IReadOnlyList<LedgerEntry> entries;
        try { entries = await JournalLedger.Read(config, s.JobId, cancellation); }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The journal could not be read (database unreachable, locked, or another schema): say what failed, in full.
            Console.Error.WriteLine($"Cannot read the journal: {e}");
            return NotFound;
        }
        if (entries.Count == 0)
        {
            AnsiConsole.MarkupLine($"[red]No job {Markup.Escape(s.JobId)}[/] in the journal.");
            return NotFound;
        }
        var report = LedgerAudit.Verify(entries, new DirectoryBlobStore(blobDirectory));
        foreach (var line in report.Chain) Console.WriteLine("  " + line);
        Console.WriteLine($"Read {report.Events} events; verified {report.SignaturesVerified} update signatures, recomputed {report.AggregatesRecomputed} aggregates, re-hashed {report.BlobsVerified} blobs."
            + (report.BlobsCollected > 0 ? $" {report.BlobsCollected} intermediate blobs of the ended job were removed by blob GC (their hashes are in the chain above; {report.AggregatesCollected} aggregates could not be recomputed)." : ""));
        if (report.Broken is { } broken)
        {
            AnsiConsole.MarkupLine($"[red]BROKEN:[/] {Markup.Escape(broken.ToString())}");
            return Broken;
        }
        if (!report.Signed)
        {
            Console.WriteLine($"The ledger of job {s.JobId} holds, but the job enrols no client keys (job.clients.public-keys): its updates are unsigned and cannot be attributed to their clients.");
            return s.AllowUnsigned ? 0 : Unsigned;
        }
        Console.WriteLine($"The ledger of job {s.JobId} holds.");
        return 0;
    }
}
