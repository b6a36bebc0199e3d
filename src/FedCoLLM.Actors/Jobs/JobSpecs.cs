using System.Text;
using FedCoLLM.Actors.Rounds;
using FedCoLLM.Actors.Strategies;

namespace FedCoLLM.Actors.Jobs;

/// <summary>What the round state machine is given of a job definition: the strategy's plan, the enrolment, quorum and
/// deadlines, and the canonical definition itself (journaled with it, so the journal holds the whole spec).</summary>
public static class JobSpecs
{
    public static JobSpec From(JobDefinition definition) => new JobSpec
    {
        JobId = definition.Id,
        ClientIds = definition.Enrolled,
        ClientKeys = definition.PublicKeys,
        Rounds = definition.Rounds,
        Seed = definition.Seed,
        Strategy = definition.Strategy,
        Phases = StrategyCatalog.Get(definition.Strategy).Phases,
        MinUpdates = definition.Quorum,
        ClientTimeout = definition.ClientTrainingDeadline,
        AggregationTimeout = definition.AggregationDeadline,
        MaxRoundAttempts = definition.MaxRoundAttempts,
        SecureAggregation = definition.SecureAggregation is { } s
            ? new SecureAggregationSpec(s.Dropouts, s.Clip, s.MaxSamples, s.StepDeadline) : null,
        MaxUpdateNormRatio = definition.Updates.MaxNormRatio,
        Definition = Encoding.UTF8.GetString(definition.CanonicalBytes()),
    }.Validate();

    public static JobDefinition DefinitionOf(JobSpec spec) => JobDefinition.FromCanonicalBytes(spec.DefinitionBytes);
}
