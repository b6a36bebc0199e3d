namespace FedCoLLM.Cli.Bench;

/// <summary>
/// Peak resident-set growth of this process over a region, from Linux /proc: writing "5" to
/// /proc/self/clear_refs resets VmHWM (the RSS high-water mark) to the current RSS, so
/// VmHWM after − VmRSS before is the region's peak extra resident memory. libtorch's CPU allocator
/// mmaps large tensors and unmaps them on free, so this tracks tensor temporaries well.
/// </summary>
internal static class ProcessMemory
{
    public static bool CanMeasurePeak { get; } = TryReset();

    public static long? PeakGrowthBytes(Action region)
    {
        if (!CanMeasurePeak) { region(); return null; }
        TryReset();
        long before = ReadKb("VmRSS:");
        region();
        long peak = ReadKb("VmHWM:");
        return Math.Max(0, peak - before) * 1024;
    }

    /// <summary>The process's peak resident set (VmHWM) while <paramref name="region"/> ran, in bytes: the
    /// whole process, model weights included, not the growth.</summary>
    public static long? PeakBytes(Action region)
    {
        if (!CanMeasurePeak) { region(); return null; }
        TryReset();
        region();
        return ReadKb("VmHWM:") * 1024;
    }

    private static bool TryReset()
    {
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
            return ReadKb("VmHWM:") > 0;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static long ReadKb(string key)
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith(key, StringComparison.Ordinal))
                return long.Parse(line[key.Length..].Trim().Split(' ')[0]);
        return -1;
    }
}
