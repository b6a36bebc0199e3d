using System.Reflection;
using Akka.Actor;
using Akka.Serialization;
using Hyperion;

namespace FedCoLLM.Actors.Serialization;

/// <summary>
/// Akka's Hyperion serializer with the type allow-list actually enforced. Akka.Serialization.Hyperion 1.5.73 keeps
/// the <see cref="HyperionSerializerSetup"/>'s TypeFilter in its settings but builds its inner Hyperion serializer
/// with <c>DisabledTypeFilter</c>, so any type named in a frame is instantiated (found by the serialization specs).
/// This class rebuilds the inner serializer from the same options (Akka's surrogates and value serializers for
/// actor refs included) plus the filter; Hyperion then refuses any type outside <see cref="WireTypes.Allowed"/>.
/// </summary>
public sealed class AllowListedHyperionSerializer : HyperionSerializer
{
    public AllowListedHyperionSerializer(ExtendedActorSystem system) : base(system) => EnforceTypeFilter();

    public AllowListedHyperionSerializer(ExtendedActorSystem system, Akka.Configuration.Config config) : base(system, config) => EnforceTypeFilter();

    void EnforceTypeFilter()
    {
        var field = typeof(HyperionSerializer).GetField("_serializer", BindingFlags.NonPublic | BindingFlags.Instance)
            ?? throw new InvalidOperationException("Akka.Serialization.Hyperion changed: HyperionSerializer._serializer not found; re-check how its type filter is applied before upgrading.");
        var inner = (Hyperion.Serializer)field.GetValue(this)!;
        var filtered = inner.Options.WithDisallowUnsafeType(true).WithTypeFilter(Settings.TypeFilter);
        field.SetValue(this, new Hyperion.Serializer(filtered));
    }
}
