using System.Collections.Concurrent;
using System.Collections.Frozen;
using System.Collections.Immutable;
using System.Text.RegularExpressions;
using Hyperion;

namespace FedCoLLM.Actors.Serialization;

/// <summary>
/// Hyperion's type filter for the wire. A type named in a frame is allowed when it is in
/// <see cref="WireTypes.Allowed"/>, or is an array or a collection instantiation (List, Dictionary, KeyValuePair,
/// the immutable collections, the compiler's read-only wrappers behind collection expressions) whose type arguments
/// are all allowed. Hyperion asks with several spellings of one type (with or without version and key, with its
/// "%core%" placeholder), so names are reduced to one canonical form first; Hyperion's own TypeFilter matches only one
/// spelling and refuses the rest.
/// </summary>
public sealed partial class WireTypeFilter : ITypeFilter
{
    static readonly FrozenSet<Type> CollectionDefinitions = new[]
    {
        typeof(List<>), typeof(Dictionary<,>), typeof(KeyValuePair<,>), typeof(HashSet<>),
        typeof(ImmutableList<>), typeof(ImmutableArray<>), typeof(ImmutableDictionary<,>), typeof(ImmutableHashSet<>),
        typeof(ImmutableSortedDictionary<,>), typeof(ImmutableSortedSet<>),
    }.ToFrozenSet();

    readonly FrozenSet<Type> allowed;
    readonly ConcurrentDictionary<string, bool> decisions = new(StringComparer.Ordinal);

    public WireTypeFilter(IEnumerable<Type> allowed) => this.allowed = allowed.ToFrozenSet();

    public bool IsAllowed(string typeName) => decisions.GetOrAdd(Canonical(typeName), name =>
        Type.GetType(name, throwOnError: false) is { } type && IsAllowed(type));

    public bool IsAllowed(Type type)
    {
        if (allowed.Contains(type)) return true;
        if (type.IsArray) return type.GetArrayRank() == 1 && IsAllowed(type.GetElementType()!);
        if (!type.IsGenericType) return false;
        var definition = type.GetGenericTypeDefinition();
        // Collection expressions assigned to IReadOnlyList<T> compile to these wrappers (in the calling assembly).
        bool collection = CollectionDefinitions.Contains(definition) || definition.Name.StartsWith("<>z__ReadOnly", StringComparison.Ordinal);
        return collection && type.GetGenericArguments().All(IsAllowed);
    }

    public static string Canonical(string typeName) => Qualifiers().Replace(typeName, "");

    [GeneratedRegex(@",\s*(Version|Culture|PublicKeyToken)=[^,\]]*|,\s*%core%")]
    private static partial Regex Qualifiers();
}
