using Akka.Configuration;
using FedCoLLM.Actors.Workers;

namespace FedCoLLM.Actors.Hosting;

/// <summary>
/// The protocol's timers, read from the <c>fedcollm.protocol</c> HOCON block (defaults in hocon/protocol.conf). None of
/// them changes a byte a job computes, so a node may set its own; the deadlines that decide a round (client training,
/// aggregation) belong to the job file instead.
/// </summary>
public sealed record ProtocolTimeouts
{
    /// <summary>An aggregation request nobody acknowledged is resent after this (the aggregator's node may have died).</summary>
    public TimeSpan AggregationAck { get; init; } = TimeSpan.FromSeconds(15);
    /// <summary>A client registers this often until the job answers, then heartbeats at <see cref="ClientHeartbeat"/>.</summary>
    public TimeSpan ClientRegister { get; init; } = TimeSpan.FromSeconds(1);
    public TimeSpan ClientHeartbeat { get; init; } = TimeSpan.FromSeconds(5);
    /// <summary>A client resends an unacknowledged update this often.</summary>
    public TimeSpan ClientResend { get; init; } = TimeSpan.FromSeconds(3);
    /// <summary>How often a client silo asks the directory which jobs enrol it.</summary>
    public TimeSpan DirectoryPoll { get; init; } = TimeSpan.FromSeconds(2);
    /// <summary>How long a holder may take to answer a fetch (it may be busy training on shared cores).</summary>
    public TimeSpan BlobFetch { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>How long a transfer may go without a chunk before the holder is given up on and asked again.</summary>
    public TimeSpan BlobChunk { get; init; } = TimeSpan.FromSeconds(15);
    /// <summary>At most this many fetches from one holder run at once; the rest wait their turn, and a fetch's timeouts
    /// start when it is sent. A job entity fetching 10,000 client updates from one client node at once timed every one
    /// of them out behind the others (<c>fedcollm bench scale --clients 10000</c>), and the resends fetched again.</summary>
    public int BlobFetchesPerHolder { get; init; } = 16;
    public RetryPolicy Retries { get; init; } = new();

    public static ProtocolTimeouts From(Config config)
    {
        var d = new ProtocolTimeouts();
        if (!config.HasPath("fedcollm.protocol")) return d;
        var c = config.GetConfig("fedcollm.protocol");
        TimeSpan Get(string key, TimeSpan fallback)
        {
            var value = c.GetTimeSpan(key, fallback, allowInfinite: false);
            return value > TimeSpan.Zero ? value
                : throw new ArgumentException($"fedcollm.protocol.{key} = {value}; set it to a positive duration, e.g. {fallback.TotalSeconds}s.", key);
        }
        var retries = new RetryPolicy(
            c.GetInt("retry.max-attempts", d.Retries.MaxAttempts),
            Get("retry.base-delay", TimeSpan.FromSeconds(d.Retries.BaseDelaySeconds)).TotalSeconds,
            Get("retry.max-delay", TimeSpan.FromSeconds(d.Retries.MaxDelaySeconds)).TotalSeconds);
        if (retries.MaxAttempts < 1)
            throw new ArgumentException($"fedcollm.protocol.retry.max-attempts = {retries.MaxAttempts}; set it to at least 1.", "retry.max-attempts");
        var perHolder = c.GetInt("blob-fetches-per-holder", d.BlobFetchesPerHolder);
        if (perHolder < 1)
            throw new ArgumentException($"fedcollm.protocol.blob-fetches-per-holder = {perHolder}; set it to at least 1 (default {d.BlobFetchesPerHolder}).", "blob-fetches-per-holder");
        return new ProtocolTimeouts
        {
            AggregationAck = Get("aggregation-ack", d.AggregationAck),
            ClientRegister = Get("client-register", d.ClientRegister),
            ClientHeartbeat = Get("client-heartbeat", d.ClientHeartbeat),
            ClientResend = Get("client-resend", d.ClientResend),
            DirectoryPoll = Get("directory-poll", d.DirectoryPoll),
            BlobFetch = Get("blob-fetch", d.BlobFetch),
            BlobChunk = Get("blob-chunk", d.BlobChunk),
            BlobFetchesPerHolder = perHolder,
            Retries = retries,
        };
    }
}
