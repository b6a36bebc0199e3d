namespace FedCoLLM.Actors.Strategies;

/// <summary>The strategies a job file may name. Registration is one line each; a test or a host may add its own with
/// <see cref="Register"/> before it submits a job naming it.</summary>
public static class StrategyCatalog
{
    static readonly Dictionary<string, IStrategy> Known = new(StringComparer.Ordinal);

    static StrategyCatalog()
    {
        Register(new FedCoLLMStrategy());
        Register(new FedAvgStrategy());
        Register(new CentralizedStrategy());
        Register(new StandaloneStrategy());
        Register(new ZeroShotStrategy());
        Register(new LlmPublicStrategy());
    }

    public static IReadOnlyCollection<string> Names
    {
        get { lock (Known) return Known.Keys.Order(StringComparer.Ordinal).ToArray(); }
    }

    /// <summary>Adds a strategy after checking its plan; a second strategy under a taken name is refused.</summary>
    public static void Register(IStrategy strategy)
    {
        PhasePlan.Validate(strategy.Phases);
        lock (Known)
        {
            if (Known.TryGetValue(strategy.Name, out var existing) && existing.GetType() != strategy.GetType())
                throw new ArgumentException($"A strategy named \"{strategy.Name}\" is already registered ({existing.GetType().Name}).", nameof(strategy));
            Known[strategy.Name] = strategy;
        }
    }

    public static IStrategy Get(string name)
    {
        lock (Known)
            return Known.TryGetValue(name, out var s) ? s
                : throw new ArgumentException($"job.strategy = \"{name}\" is not a known strategy; choose one of {string.Join(", ", Known.Keys.Order(StringComparer.Ordinal))}.", "strategy");
    }
}
