using Akka.Actor;
using Akka.Cluster;
using FedCoLLM.Actors.Protocol;

namespace FedCoLLM.Actors.Identity;

/// <summary>
/// Which cluster members may send which server-bound message (docs/security-identity.md). Client silos belong to other
/// organisations but are full cluster members, so any of them could address any actor; the job entity, the aggregator
/// and the directory ask this before they handle a message:
/// <list type="bullet">
/// <item>results of the aggregator (<see cref="Aggregated"/>, <see cref="AggregationStarted"/>, <see cref="AggregationFailed"/>)
/// only from actors on members with role <c>aggregator</c>;</item>
/// <item>requests of the job entity to the aggregator and the directory (<see cref="AggregateUpdates"/>, <see cref="ListJob"/>,
/// <see cref="DelistJob"/>) only from members with role <c>server</c>;</item>
/// <item>operator commands (<see cref="StartFederation"/>, <see cref="CancelFederation"/>) from any member except a client
/// silo (a member with role <c>client</c> and neither <c>server</c> nor <c>aggregator</c>): <c>fedcollm submit/cancel</c> join without roles;</item>
/// <item>client messages from anyone: an update counts only when signed by the key the job enrols for the client it
/// names (<see cref="Rounds.RoundState.Authenticate"/>).</item>
/// </list>
/// The member is found by the address of the message's sender. Akka.Remote does not authenticate that address (a node
/// running modified code can put any sender path on a message), so this stops a client running our code from reaching
/// server-internal commands, not a client that rewrites the remoting layer: the ledger audit (<c>fedcollm audit</c>)
/// is what detects a forged aggregate in that case.
/// </summary>
public static class TrustBoundary
{
    public const string ServerRole = "server";
    public const string AggregatorRole = "aggregator";
    public const string ClientRole = "client";

    static readonly IReadOnlyDictionary<Type, string> OnlyFrom = new Dictionary<Type, string>
    {
        [typeof(Aggregated)] = AggregatorRole,
        [typeof(AggregationStarted)] = AggregatorRole,
        [typeof(AggregationFailed)] = AggregatorRole,
        [typeof(AggregateUpdates)] = ServerRole,
        [typeof(ListJob)] = ServerRole,
        [typeof(DelistJob)] = ServerRole,
    };

    static readonly IReadOnlySet<Type> OperatorCommands = new HashSet<Type> { typeof(StartFederation), typeof(CancelFederation) };

    /// <summary>Null when <paramref name="sender"/> may send <paramref name="message"/>; else why not, in words.</summary>
    public static string? Refusal(ActorSystem system, object message, IActorRef? sender)
    {
        var type = message.GetType();
        var required = OnlyFrom.GetValueOrDefault(type);
        bool operatorCommand = OperatorCommands.Contains(type);
        if (required is null && !operatorCommand) return null;
        var name = type.Name;
        if (sender is null || sender.IsNobody() || sender.Equals(system.DeadLetters))
            return $"{name} without a sender is refused: it must come from an actor whose member can be checked";
        var address = sender.Path.Address;
        var cluster = Cluster.Get(system);
        IReadOnlySet<string>? roles = !address.HasGlobalScope || address.Equals(cluster.SelfAddress)
            ? cluster.SelfRoles.ToHashSet()
            : cluster.State.Members.FirstOrDefault(m => m.Address.Equals(address))?.Roles.ToHashSet();
        if (roles is null)
            return $"{name} from {address} is refused: that address is not a member of the cluster";
        if (required is not null && !roles.Contains(required))
            return $"{name} from {address} (roles [{string.Join(", ", roles.Order(StringComparer.Ordinal))}]) is refused: only members with role {required} may send it";
        if (operatorCommand && roles.Contains(ClientRole) && !roles.Contains(ServerRole) && !roles.Contains(AggregatorRole))
            return $"{name} from {address} is refused: a client silo may not start or cancel jobs; use fedcollm submit/cancel from an operator's node";
        return null;
    }
}
