using System.Text.Json;
using TorchSharp.Modules;

namespace FedCoLLM.Learning.Training;

/// <summary>
/// Periodic, crash-safe checkpoints of a training phase so an interrupted run resumes where it stopped
/// and ends bit-identical to an uninterrupted one: the loop reseeds libtorch's generator from (seed, step)
/// at every step, so the model weights, the optimizer state and the step number are all the state there is.
/// A checkpoint directory holds the caller's model files, <c>optimizer.bin</c> and <c>progress.json</c>;
/// it is written beside the old one and swapped in by rename, so a kill never leaves a half-written one.
/// </summary>
/// <param name="Every">Save after every this-many optimizer steps (and after the last).</param>
/// <param name="Interval">And only once this long has passed since the last save: bounds the cost of saving for a
/// phase of many short steps, at the price of redoing at most this much work after a kill. Zero: every due step.</param>
public sealed record TrainingCheckpoints(string Directory, int Every, Action<string> SaveModel, Action<string> LoadModel, TimeSpan Interval = default)
{
    readonly System.Diagnostics.Stopwatch sinceSave = System.Diagnostics.Stopwatch.StartNew();

    const string OptimizerFile = "optimizer.bin";
    const string ProgressFile = "progress.json";

    sealed record Progress(int Step, int TotalSteps, List<double> StepLosses, double ElapsedSeconds);

    string Previous => PreviousOf(Directory);
    string Incoming => IncomingOf(Directory);

    static string PreviousOf(string directory) => directory + ".previous";
    static string IncomingOf(string directory) => directory + ".incoming";

    /// <summary>Removes the checkpoint in <paramref name="directory"/> and the folders a save swaps through beside it.</summary>
    public static void Delete(string directory)
    {
        foreach (var dir in new[] { directory, PreviousOf(directory), IncomingOf(directory) })
            if (System.IO.Directory.Exists(dir)) System.IO.Directory.Delete(dir, recursive: true);
    }

    /// <summary>The checkpoint to resume from: the current one, or the previous one if a swap was interrupted.</summary>
    string? Existing =>
        File.Exists(Path.Combine(Directory, ProgressFile)) ? Directory
        : File.Exists(Path.Combine(Previous, ProgressFile)) ? Previous
        : null;

    public bool HasCheckpoint => Existing is not null;

    /// <summary>Whether the loop saves after <paramref name="step"/> of <paramref name="totalSteps"/>.</summary>
    internal bool Due(int step, int totalSteps) =>
        step == totalSteps || (step % Every == 0 && sinceSave.Elapsed >= Interval);

    internal void Save(int step, int totalSteps, IReadOnlyList<double> losses, TimeSpan elapsed, OptimizerHelper optimizer)
    {
        if (System.IO.Directory.Exists(Incoming)) System.IO.Directory.Delete(Incoming, recursive: true);
        System.IO.Directory.CreateDirectory(Incoming);
        SaveModel(Incoming);
        optimizer.save_state_dict(Path.Combine(Incoming, OptimizerFile));
        File.WriteAllText(Path.Combine(Incoming, ProgressFile),
            JsonSerializer.Serialize(new Progress(step, totalSteps, losses.ToList(), elapsed.TotalSeconds)));
        if (System.IO.Directory.Exists(Previous)) System.IO.Directory.Delete(Previous, recursive: true);
        if (System.IO.Directory.Exists(Directory)) System.IO.Directory.Move(Directory, Previous);
        System.IO.Directory.Move(Incoming, Directory);
        if (System.IO.Directory.Exists(Previous)) System.IO.Directory.Delete(Previous, recursive: true);
        sinceSave.Restart();
    }

    /// <summary>Loads model and optimizer state; returns the step to continue from, the losses and time so far.</summary>
    internal (int Step, List<double> Losses, TimeSpan Elapsed) Restore(int totalSteps, OptimizerHelper optimizer)
    {
        var dir = Existing ?? throw new InvalidOperationException($"No checkpoint in {Directory}.");
        var progress = JsonSerializer.Deserialize<Progress>(File.ReadAllText(Path.Combine(dir, ProgressFile)))
                       ?? throw new InvalidDataException($"{Path.Combine(dir, ProgressFile)} is empty.");
        if (progress.TotalSteps != totalSteps)
            throw new InvalidOperationException(
                $"The checkpoint in {dir} belongs to a run of {progress.TotalSteps} steps, this run has {totalSteps}; " +
                "resume with the same settings, or delete the checkpoint directory to start over.");
        LoadModel(dir);
        optimizer.load_state_dict(Path.Combine(dir, OptimizerFile));
        return (progress.Step, progress.StepLosses, TimeSpan.FromSeconds(progress.ElapsedSeconds));
    }
}
