using System.Text.Json;
using System.Text.Json.Serialization;

namespace FedCoLLM.Web.Status;

/// <summary>The API's JSON, generated at compile time (no reflection, so it also works trimmed). snake_case like
/// <c>fedcollm status --json</c> and report.json.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = false)]
[JsonSerializable(typeof(JobListView))]
[JsonSerializable(typeof(JobDetailView))]
[JsonSerializable(typeof(ApiError))]
public sealed partial class StatusJson : JsonSerializerContext;

/// <summary>The body of a 404 or 503 from the API.</summary>
public sealed record ApiError(string Error);
