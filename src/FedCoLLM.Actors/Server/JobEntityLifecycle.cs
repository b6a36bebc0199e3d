using Akka.Actor;

namespace FedCoLLM.Actors.Server;

/// <summary>
/// Published on the local event stream (never sent over the wire) when a job entity starts on this node and when its
/// journal replay ends: a node's trace prints them, and <c>fedcollm bench failover</c> reads those lines to split a
/// failover into shard hand-off (until <see cref="JobEntityStarted"/>) and journal replay (until
/// <see cref="JobEntityRecovered"/>).
/// </summary>
public sealed record JobEntityStarted(string JobId) : INoSerializationVerificationNeeded;

/// <summary>The entity has replayed its journal (<paramref name="Events"/> events after any snapshot) and is about to
/// re-issue the pending work of <paramref name="Round"/>/<paramref name="Phase"/>.</summary>
public sealed record JobEntityRecovered(string JobId, int Round, string Phase, long Events) : INoSerializationVerificationNeeded;
