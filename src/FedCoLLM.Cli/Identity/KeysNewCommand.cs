using System.ComponentModel;
using FedCoLLM.Actors.Identity;
using Spectre.Console;
using Spectre.Console.Cli;

namespace FedCoLLM.Cli.Identity;

/// <summary><c>fedcollm keys new --client-id ID</c>: a client silo's Ed25519 key pair (<see cref="ClientKeyFiles"/>); prints the
/// public key as the job file enrols it.</summary>
public sealed class KeysNewCommand : Command<KeysNewCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("--client-id <ID>")] [Description("The client silo the key identifies (as in the job's clients.enrolled).")]
        public string ClientId { get; init; } = "";
        [CommandOption("--out <DIR>")] [Description("The client node's keys directory (its fedcollm.identity.keys-dir / FEDCOLLM_KEYS_DIR). Default: that of `fedcollm run`.")]
        [DefaultValue("runs/fedcollm/keys")]
        public string Out { get; init; } = "runs/fedcollm/keys";

        public override ValidationResult Validate() =>
            string.IsNullOrWhiteSpace(ClientId) ? ValidationResult.Error("--client-id is required.") : ValidationResult.Success();
    }

    public override int Execute(CommandContext context, Settings s, CancellationToken cancellation)
    {
        string publicKey;
        try { publicKey = ClientKeyFiles.New(s.Out, s.ClientId); }
        catch (Exception e) when (e is IOException or ArgumentException or UnauthorizedAccessException)
        {
            AnsiConsole.MarkupLine($"[red]Refused:[/] {Markup.Escape(e.Message)}");
            return 2;
        }
        Console.WriteLine($"Wrote {ClientKeyFiles.PrivatePath(s.Out, s.ClientId)} (private, mode 0600: keep it on the client's node, never in a job or a repository)");
        Console.WriteLine($"  and {ClientKeyFiles.PublicPath(s.Out, s.ClientId)} (public).");
        Console.WriteLine("Enrol it in the job file:");
        Console.WriteLine($"  job.clients.public-keys = [{{ id = \"{s.ClientId}\", key = \"{publicKey}\" }}, …]");
        return 0;
    }
}
