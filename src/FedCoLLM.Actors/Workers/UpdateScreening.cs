using FedCoLLM.Actors.Blobs;
using FedCoLLM.Actors.Rounds;
using FedCoLLM.Learning.Federation;

namespace FedCoLLM.Actors.Workers;

/// <summary>
/// The worker side of accepting a client update: reads the update and the round's adapter from the node's store and runs
/// <see cref="UpdateScreen"/> on a pool thread, so the job entity's mailbox never parses a client's bytes. The verdict
/// is all the entity sees; it journals a refusal as <see cref="ClientUpdateRejected"/>.
/// </summary>
public static class UpdateScreening
{
    public static UpdateLimits Limits(JobSpec job) => new(job.MaxUpdateNormRatio);

    /// <summary>The checks that need no bytes (size, n_k), made before the update is fetched.</summary>
    public static UpdateVerdict Declared(BlobRef update, BlobRef reference, long sampleCount) =>
        UpdateScreen.CheckDeclared(update.Size, reference.Size, sampleCount);

    public static Task<UpdateVerdict> ScreenAsync(IBlobStore store, BlobRef reference, BlobRef update, long sampleCount, UpdateLimits limits) =>
        Task.Run(() => UpdateScreen.Check(store.Read(reference), store.Read(update), sampleCount, limits));
}
