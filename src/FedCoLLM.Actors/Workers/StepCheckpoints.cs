using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Akka.Configuration;
using FedCoLLM.Actors.Blobs;
using FedCoLLM.Actors.Rounds;
using FedCoLLM.Learning.Federation;
using FedCoLLM.Learning.Training;

namespace FedCoLLM.Actors.Workers;

/// <summary>
/// Where a node's training steps keep their checkpoints, so that a step re-dispatched after its node died (a job's
/// server step on the job's new host, a client's step on its restarted silo) continues from the last checkpoint
/// instead of from its first optimizer step, and still returns the bytes an uninterrupted step returns.
/// <para>A step's directory is named by the SHA-256 of everything its output is a function of (job definition,
/// operation, seed, input blobs, client, sample counts), never by round attempt or node, so any re-run of the same
/// step finds it. By default the root is <c>.step-checkpoints</c> inside the node's blob store, which server nodes
/// share (a Kubernetes volume, the lab's shared folder), so the new host of a job sees what the old one saved.</para>
/// <para>One writer per step: the runner holds an exclusive lock on <c>KEY.lock</c> while it trains (flock, released by
/// the kernel when a process dies). A node that cannot take it, because the old host is still alive on the other
/// side of a partition, trains without checkpoints: the step is deterministic, so it returns the same bytes, only
/// without the shortcut. The directory is deleted once the step's outputs are in the store, or when the step fails
/// (a deterministic failure would fail again from the checkpoint); a cancelled step (its node is stopping) keeps it.</para>
/// </summary>
public sealed class StepCheckpoints(string root, TimeSpan interval)
{
    public const string ConfigPath = "fedcollm.step-checkpoints";

    /// <summary>The folder inside a blob store (never a blob: blob folders are two hex digits, and its listing and
    /// collection skip anything else).</summary>
    public const string DefaultFolder = ".step-checkpoints";

    public string Root { get; } = Path.GetFullPath(root);
    public TimeSpan Interval { get; } = interval;

    /// <summary>The node's checkpoints for steps that write into <paramref name="store"/>, from <c>fedcollm.step-checkpoints</c>
    /// (hocon/protocol.conf): null when <c>enabled = off</c>.</summary>
    public static StepCheckpoints? From(Config config, IBlobStore store)
    {
        if (!config.GetBoolean($"{ConfigPath}.enabled", true)) return null;
        var directory = config.GetString($"{ConfigPath}.directory", "");
        var interval = config.GetTimeSpan($"{ConfigPath}.interval", TimeSpan.FromSeconds(1), allowInfinite: false);
        if (interval < TimeSpan.Zero)
            throw new ArgumentException($"{ConfigPath}.interval = {interval}: must be zero (checkpoint after every optimizer step) or positive.");
        return new StepCheckpoints(string.IsNullOrWhiteSpace(directory) ? DefaultRoot(store) : directory, interval);
    }

    public static string DefaultRoot(IBlobStore store) => store is DirectoryBlobStore directory
        ? Path.Combine(directory.Root, DefaultFolder)
        : Path.Combine(Environment.CurrentDirectory, "step-checkpoints");

    /// <summary>The directory of <paramref name="request"/>'s checkpoints.</summary>
    public string DirectoryOf(StepRequest request) => Path.Combine(Root, Key(request));

    /// <summary>Runs <paramref name="step"/> with its checkpoint (or none when another process holds the step's lock), and
    /// removes the checkpoint once <paramref name="step"/> returned (its outputs stored) or failed.</summary>
    public StepResult Run(StepRequest request, Func<StepCheckpoint?, StepResult> step)
    {
        var directory = DirectoryOf(request);
        var lockPath = directory + ".lock";
        Directory.CreateDirectory(Root);
        using var held = TryLock(lockPath);
        if (held is null) return step(null);
        try
        {
            var result = step(new StepCheckpoint(directory, Interval));
            Remove(directory, lockPath);
            return result;
        }
        catch (OperationCanceledException)
        {
            throw; // the node is stopping: whoever runs the step next resumes from here
        }
        catch
        {
            Remove(directory, lockPath);
            throw;
        }
    }

    /// <summary>SHA-256 over the step's identity, in an invariant text form (the seed already folds in round and phase).</summary>
    public static string Key(StepRequest request)
    {
        var text = new StringBuilder("fedcollm-step-checkpoint/v1\n")
            .Append(request.Spec?.Sha256).Append('\n')
            .Append(request.JobId).Append('\n')
            .Append(request.Operation).Append('\n')
            .Append(request.Seed.ToString(CultureInfo.InvariantCulture)).Append('\n')
            .Append(request.ClientId).Append('\n')
            .AppendJoin(',', request.Inputs.Select(i => i.Sha256)).Append('\n')
            .AppendJoin(',', (request.SampleCounts ?? []).Select(n => n.ToString(CultureInfo.InvariantCulture)));
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }

    /// <summary>An exclusive lock (.NET takes flock(LOCK_EX | LOCK_NB) for FileShare.None on Unix), or null when held.</summary>
    static FileStream? TryLock(string path)
    {
        try
        {
            return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>Removes a step's checkpoint (with the folders it swaps through), then its lock file, still holding the lock:
    /// a process that opens the path afterwards gets a new file and its lock, and finds no checkpoint, which is right
    /// since this step is done.</summary>
    static void Remove(string directory, string lockPath)
    {
        try
        {
            TrainingCheckpoints.Delete(directory);
            File.Delete(lockPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // gone meanwhile, or not ours: a leftover is harmless (a later run of the same step resumes from it)
        }
    }
}
