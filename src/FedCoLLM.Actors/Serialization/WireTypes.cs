using Akka.Serialization.Hyperion;
using FedCoLLM.Actors.Blobs;
using FedCoLLM.Actors.Protocol;
using FedCoLLM.Actors.Rounds;

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
            typeof(BlobRef), typeof(JobSpec), typeof(RoundPhase), typeof(Strategies.PhasePlan), typeof(Strategies.PhaseRunner), typeof(Outcome), typeof(RoundState),
            typeof(AcceptedUpdate), typeof(CommittedRound), typeof(StepResult), typeof(StepRequest), typeof(LiveProgress),
            typeof(SecureAggregationSpec), typeof(SecAggStepSpec), typeof(SecAggRound), typeof(TransferCount), typeof(ClientTransfer),
            typeof(string), typeof(bool), typeof(int), typeof(long), typeof(double), typeof(float), typeof(byte),
            typeof(TimeSpan), typeof(DateTimeOffset), typeof(DateTime), typeof(Guid),
            // Hyperion writes dictionaries as entries.
            typeof(System.Collections.DictionaryEntry),
        ];
        // How Akka's Hyperion integration writes actor refs and stream refs.
        Type[] surrogates =
        [
            Type.GetType("Akka.Actor.ActorRefBase+Surrogate, Akka", throwOnError: true)!,
            Type.GetType("Akka.Streams.Serialization.SourceRefSurrogate, Akka.Streams", throwOnError: true)!,
        ];
        // A BlobOffer carries a stream ref; its implementation type is internal to Akka.Streams.
        var sourceRef = Type.GetType("Akka.Streams.Implementation.StreamRef.SourceRefImpl`1, Akka.Streams", throwOnError: true)!
            .MakeGenericType(typeof(byte[]));
        return messages.Concat(contents).Concat(surrogates).Append(sourceRef).Distinct().ToArray();
    }

    /// <summary>The Hyperion setup every node uses; enforced by <see cref="AllowListedHyperionSerializer"/>.</summary>
    public static HyperionSerializerSetup Setup() => HyperionSerializerSetup.Empty.WithTypeFilter(new WireTypeFilter(Allowed));
}
