using System.Text.Json;
using System.Text.Json.Serialization;

namespace FedCoLLM.Actors.Rounds;

/// <summary>Where a federation job stands: a lifecycle state (<see cref="NotStarted"/>, <see cref="Initializing"/>,
/// <see cref="Completed"/>, <see cref="Failed"/>, <see cref="Cancelled"/>) or the name of a round phase. Round phases are
/// declared by the job's strategy (<c>Strategies/</c>), not here; the names below are the ones the shipped strategies use,
/// kept in one place so seeds (derived from the name, <see cref="StepSeeds"/>) and journals stay stable.</summary>
[JsonConverter(typeof(RoundPhaseJsonConverter))]
public readonly record struct RoundPhase(string Name)
{
    public static readonly RoundPhase NotStarted = new(nameof(NotStarted));
    /// <summary>The server creates the seeded initial LoRA adapters of both models and scores them (round 0).</summary>
    public static readonly RoundPhase Initializing = new(nameof(Initializing));
    public static readonly RoundPhase Completed = new(nameof(Completed));
    public static readonly RoundPhase Failed = new(nameof(Failed));
    public static readonly RoundPhase Cancelled = new(nameof(Cancelled));

    public static readonly RoundPhase ClientsTraining = new(nameof(ClientsTraining));
    public static readonly RoundPhase Aggregating = new(nameof(Aggregating));
    public static readonly RoundPhase LlmTeacherLogits = new(nameof(LlmTeacherLogits));
    public static readonly RoundPhase SlmDistillation = new(nameof(SlmDistillation));
    public static readonly RoundPhase SlmBroadcast = new(nameof(SlmBroadcast));
    public static readonly RoundPhase SlmTeacherLogits = new(nameof(SlmTeacherLogits));
    public static readonly RoundPhase LlmDistillation = new(nameof(LlmDistillation));
    public static readonly RoundPhase LlmFineTuning = new(nameof(LlmFineTuning));
    public static readonly RoundPhase Evaluating = new(nameof(Evaluating));

    /// <summary>States that are not round phases: no strategy may declare a phase with one of these names.</summary>
    public static IReadOnlyList<RoundPhase> Lifecycle { get; } = [NotStarted, Initializing, Completed, Failed, Cancelled];

    /// <summary>The job ended (completed, failed or cancelled) and will never run another step.</summary>
    public bool IsTerminal => this == Completed || this == Failed || this == Cancelled;

    public override string ToString() => Name ?? nameof(NotStarted);
}

/// <summary>A phase is written as its name, as the enum it replaces was, so journals and golden files read the same.</summary>
public sealed class RoundPhaseJsonConverter : JsonConverter<RoundPhase>
{
    public override RoundPhase Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        new(reader.GetString() ?? throw new JsonException("A round phase must be a string."));

    public override void Write(Utf8JsonWriter writer, RoundPhase value, JsonSerializerOptions options) => writer.WriteStringValue(value.ToString());
}
