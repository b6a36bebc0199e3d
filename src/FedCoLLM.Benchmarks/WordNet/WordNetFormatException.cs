namespace FedCoLLM.Benchmarks.WordNet;

/// <summary>A WordNet database file does not follow wndb(5WN); the message names file, line and fault.</summary>
public sealed class WordNetFormatException(string fileName, int lineNumber, string problem)
    : FormatException($"{fileName} line {lineNumber}: {problem}")
{
    public string FileName { get; } = fileName;

    /// <summary>1-based line number in the file.</summary>
    public int LineNumber { get; } = lineNumber;

    public string Problem { get; } = problem;
}
