using System.Globalization;

namespace FedCoLLM.Actors.Jobs;

/// <summary>Durations as the job file and the canonical form write them: a whole number and a unit
/// (<c>ms</c>, <c>s</c>, <c>m</c>, <c>h</c>, <c>d</c>), e.g. <c>30m</c>. A bare number is refused rather than read as
/// milliseconds (Akka's convention), because "30" meaning 30 ms is a deadline nobody intends.</summary>
public static class JobDuration
{
    static readonly (string Unit, TimeSpan Size)[] Units =
    [
        ("d", TimeSpan.FromDays(1)), ("h", TimeSpan.FromHours(1)), ("m", TimeSpan.FromMinutes(1)),
        ("s", TimeSpan.FromSeconds(1)), ("ms", TimeSpan.FromMilliseconds(1)),
    ];

    /// <summary>Null when <paramref name="text"/> is not a positive whole number followed by a known unit.</summary>
    public static TimeSpan? TryParse(string text)
    {
        var t = text.Trim();
        int digits = 0;
        while (digits < t.Length && char.IsAsciiDigit(t[digits])) digits++;
        if (digits == 0 || !long.TryParse(t[..digits], NumberStyles.None, CultureInfo.InvariantCulture, out var count)) return null;
        var unit = t[digits..].Trim();
        foreach (var (name, size) in Units)
            if (unit == name)
                return count > 0 && count <= TimeSpan.MaxValue.Ticks / size.Ticks ? size * count : null;
        return null;
    }

    /// <summary>The largest unit that divides the duration exactly, so equal durations are written alike.</summary>
    public static string Format(TimeSpan duration)
    {
        foreach (var (name, size) in Units)
            if (duration.Ticks % size.Ticks == 0)
                return (duration.Ticks / size.Ticks).ToString(CultureInfo.InvariantCulture) + name;
        throw new ArgumentException($"{duration} is not a whole number of milliseconds; a job deadline is.", nameof(duration));
    }
}
