namespace FedCoLLM.Tests.Shared;

/// <summary>
/// The one rule for tests that need something a developer's machine may lack (PostgreSQL, Chromium, Prometheus, the
/// Kubernetes validators, the multi-host lab): skipped locally, saying what is missing; in CI (CI=true, or the
/// requirement's own FEDCOLLM_REQUIRE_* variable, which .ci/run exports) they run and fail, naming it. They never pass
/// silently.
/// </summary>
static class Requirement
{
    public static bool InCi(string? requireVariable = null) =>
        string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase) ||
        (requireVariable is not null && Environment.GetEnvironmentVariable(requireVariable) == "1");

    /// <summary>The value for a test attribute's Skip: the reason when <paramref name="missing"/> may be skipped here,
    /// else null (the test runs, and fails on what is missing).</summary>
    public static string? Skip(string? missing, string? requireVariable = null) =>
        missing is not null && !InCi(requireVariable) ? missing : null;
}
