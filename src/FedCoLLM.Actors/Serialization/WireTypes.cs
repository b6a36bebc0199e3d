using System.Collections.Immutable;
using Akka.Serialization.Hyperion;
using FedCoLLM.Actors.Blobs;
using FedCoLLM.Actors.Protocol;
using FedCoLLM.Actors.Rounds;
using Hyperion;

namespace FedCoLLM.Actors.Serialization;

/// <summary>The Hyperion allow-list: every wire message and every type that appears inside one. Hyperion
/// refuses to deserialize any other type, so a crafted frame cannot instantiate arbitrary classes.</summary>
public static class WireTypes
{
    public static IReadOnlyList<Type> Allowed { get; } = BuildAllowed();

    static IReadOnlyList<Type> BuildAllowed()
    {
        var messages = typeof(IWireMessage).Assembly.GetTypes()
            .Where(t => typeof(IWireMessage).IsAssignableFrom(t) && t is { IsInterface: false, IsAbstract: false });
        Type[] contents =
        [
            typeof(BlobRef), typeof(JobSpec), typeof(RoundPhase), typeof(Outcome), typeof(RoundState),
            typeof(AcceptedUpdate), typeof(CommittedRound), typeof(StepResult), typeof(StepRequest), typeof(LiveProgress),
            typeof(string[]), typeof(long[]), typeof(RoundPhase[]), typeof(BlobRef[]), typeof(LiveProgress[]),
            typeof(List<string>), typeof(List<BlobRef>), typeof(Dictionary<string, double>),
            typeof(ImmutableDictionary<string, AcceptedUpdate>), typeof(ImmutableDictionary<string, double>),
            typeof(ImmutableList<string>), typeof(ImmutableList<CommittedRound>),
            typeof(TimeSpan), typeof(DateTimeOffset),
        ];
        // A BlobOffer carries a stream ref; its implementation type is internal to Akka.Streams.
        var sourceRef = Type.GetType("Akka.Streams.Implementation.StreamRef.SourceRefImpl`1, Akka.Streams", throwOnError: true)!
            .MakeGenericType(typeof(byte[]));
        return messages.Concat(contents).Append(sourceRef).Distinct().ToArray();
    }

    public static HyperionSerializerSetup Setup()
    {
        var filter = TypeFilterBuilder.Create();
        foreach (var t in Allowed) filter = filter.Include(t);
        return HyperionSerializerSetup.Empty.WithTypeFilter(filter.Build());
    }
}
