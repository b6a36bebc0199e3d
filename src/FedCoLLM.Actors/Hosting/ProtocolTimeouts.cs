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
    /// <summary>A job entity paces its clients' heartbeats so that it hears at most this many a second: with K clients
    /// each beats every max(<see cref="ClientHeartbeat"/>, K / this). At 10,000 clients and a 5 s heartbeat the
    /// registrations, their answers and the task resends they trigger were about 6,000 remote messages a second, and
    /// the transfers queued behind them timed out (<c>fedcollm bench scale --clients 10000</c>).</summary>
    public int HeartbeatsPerSecond { get; init; } = 500;
    /// <summary>A client resends an unacknowledged update or download report after this, then at doubling intervals up to
    /// 8× it (jittered).</summary>
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

    /// <summary>The heartbeat period a job of <paramref name="clients"/> clients asks of them (see <see cref="HeartbeatsPerSecond"/>).</summary>
    public TimeSpan HeartbeatFor(int clients)
    {
        var paced = TimeSpan.FromSeconds(clients / (double)HeartbeatsPerSecond);
        return paced > ClientHeartbeat ? paced : ClientHeartbeat;
    }

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
        int Count(string key, int fallback)
        {
            var value = c.GetInt(key, fallback);
            return value >= 1 ? value
                : throw new ArgumentException($"fedcollm.protocol.{key} = {value}; set it to at least 1 (default {fallback}).", key);
        }
        var retries = new RetryPolicy(
            Count("retry.max-attempts", d.Retries.MaxAttempts),
            Get("retry.base-delay", TimeSpan.FromSeconds(d.Retries.BaseDelaySeconds)).TotalSeconds,
            Get("retry.max-delay", TimeSpan.FromSeconds(d.Retries.MaxDelaySeconds)).TotalSeconds);
        return new ProtocolTimeouts
        {
            AggregationAck = Get("aggregation-ack", d.AggregationAck),
            ClientRegister = Get("client-register", d.ClientRegister),
            ClientHeartbeat = Get("client-heartbeat", d.ClientHeartbeat),
            HeartbeatsPerSecond = Count("heartbeats-per-second", d.HeartbeatsPerSecond),
            ClientResend = Get("client-resend", d.ClientResend),
            DirectoryPoll = Get("directory-poll", d.DirectoryPoll),
            BlobFetch = Get("blob-fetch", d.BlobFetch),
            BlobChunk = Get("blob-chunk", d.BlobChunk),
            BlobFetchesPerHolder = Count("blob-fetches-per-holder", d.BlobFetchesPerHolder),
            Retries = retries,
        };
    }
}
