namespace FedCoLLM.Actors.Jobs;

/// <summary>The job file's <c>secure-aggregation = on</c> and its settings (docs/jobs.md, docs/secure-aggregation.md).</summary>
/// <param name="Dropouts">t, clients that may drop out of a round's protocol; the threshold is enrolled − t.</param>
/// <param name="Clip">The largest |Δ| of a coordinate of a client's update Δ = adapter − the round's starting adapter.</param>
/// <param name="MaxSamples">The largest n_k a client may report; with the clip and the clients it fixes the scale.</param>
/// <param name="StepDeadline">How long each protocol step but the masking one (which trains first and waits
/// <c>deadlines.client-training</c>) waits for the clients.</param>
public sealed record JobSecureAggregation(int Dropouts, double Clip, long MaxSamples, TimeSpan StepDeadline);
