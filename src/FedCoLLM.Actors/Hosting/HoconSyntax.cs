namespace FedCoLLM.Actors.Hosting;

/// <summary>A configuration or job file that cannot be read as written: <see cref="Exception.Message"/> names the file,
/// the line and the section at fault.</summary>
public sealed class ConfigFileException(string file, int line, string? section, string message, Exception? inner = null)
    : Exception(message, inner)
{
    public string File { get; } = file;
    public int Line { get; } = line;
    /// <summary>The dotted path of the block at fault (e.g. <c>akka.cluster</c>), when there is one.</summary>
    public string? Section { get; } = section;
}

/// <summary>
/// The bracket structure of a HOCON text, checked before Akka's parser sees it. Akka's parser accepts a file whose
/// block is never closed (it reads to the end and keeps what it has), so <c>fedcollm run --config bad.conf</c> with a
/// missing '}' started without its cluster settings and waited a minute for a coordinator that never came. This check
/// walks the text (strings, triple-quoted strings, comments and <c>${…}</c> substitutions skipped) and names the block
/// that is not closed, or the bracket that closes nothing.
/// </summary>
public static class HoconSyntax
{
    sealed record Open(char Bracket, string Section, int Line, int Indent);

    /// <summary>Throws <see cref="ConfigFileException"/> for an unclosed or unmatched bracket.</summary>
    public static void Check(string text, string file)
    {
        var stack = new List<Open>();
        // The first '}' that, judging by indentation, closes a block further out than the innermost open one: the
        // innermost one is then the block that lacks its '}' (reported only when the file does not balance).
        (Open Unclosed, int Line, Open ClosedInstead)? suspect = null;
        var statement = new System.Text.StringBuilder();
        int line = 1, lineStart = 0;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (c == '\n')
            {
                line++;
                lineStart = i + 1;
                statement.Clear();
                continue;
            }
            if (c == '#' || (c == '/' && i + 1 < text.Length && text[i + 1] == '/'))
            {
                while (i + 1 < text.Length && text[i + 1] != '\n') i++;
                continue;
            }
            if (c == '"')
            {
                int startLine = line;
                bool triple = i + 2 < text.Length && text[i + 1] == '"' && text[i + 2] == '"';
                int end = triple ? text.IndexOf("\"\"\"", i + 3, StringComparison.Ordinal) : ClosingQuote(text, i + 1);
                if (end < 0)
                    throw new ConfigFileException(file, startLine, SectionOf(stack),
                        $"{file}:{startLine}: a {(triple ? "triple-quoted string \"\"\"" : "quoted string")} starts here{InSection(stack)} and is never closed; add the closing {(triple ? "\"\"\"" : "quote")}.");
                int stop = triple ? end + 2 : end;
                for (int k = i + 1; k <= stop; k++) if (text[k] == '\n') { line++; lineStart = k + 1; }
                statement.Append(text, i, stop - i + 1);
                i = stop;
                continue;
            }
            if (c == '$' && i + 1 < text.Length && text[i + 1] == '{')
            {
                int end = text.IndexOf('}', i + 2);
                int newline = text.IndexOf('\n', i + 2);
                if (end < 0 || (newline >= 0 && newline < end))
                    throw new ConfigFileException(file, line, SectionOf(stack), $"{file}:{line}: a substitution ${{…}} starts here{InSection(stack)} and is not closed on its line; write ${{path.to.value}}.");
                statement.Append(text, i, end - i + 1);
                i = end;
                continue;
            }
            switch (c)
            {
                case '{' or '[':
                    var key = statement.ToString().Trim().TrimEnd('=', ':', '+').Trim().Trim('"');
                    var section = c == '[' ? (key.Length == 0 ? SectionOf(stack) + "[…]" : Join(stack, key) + "[…]") : key.Length == 0 ? SectionOf(stack) : Join(stack, key);
                    stack.Add(new Open(c, section, line, Indent(text, lineStart)));
                    statement.Clear();
                    break;
                case '}' or ']':
                    char opener = c == '}' ? '{' : '[';
                    if (stack.Count == 0)
                        throw new ConfigFileException(file, line, null, $"{file}:{line}: '{c}' here closes nothing: no block is open{(suspect is null ? "" : "")}; remove it, or add the '{opener}' it was meant to close.");
                    var top = stack[^1];
                    if (top.Bracket != opener)
                        throw new ConfigFileException(file, top.Line, top.Section,
                            $"{file}:{line}: '{c}' here, but the innermost open bracket is the '{top.Bracket}' of {Describe(top)} on line {top.Line}; close that first.");
                    if (suspect is null && c == '}' && OnlyWhitespaceBefore(text, lineStart, i) && i - lineStart < top.Indent)
                    {
                        var outer = stack.Take(stack.Count - 1).LastOrDefault(o => o.Indent == i - lineStart);
                        if (outer is not null) suspect = (top, line, outer);
                    }
                    stack.RemoveAt(stack.Count - 1);
                    statement.Clear();
                    break;
                case ',':
                    statement.Clear();
                    break;
                default:
                    statement.Append(c);
                    break;
            }
        }
        if (stack.Count == 0) return;
        if (suspect is { } s)
            throw new ConfigFileException(file, s.Unclosed.Line, s.Unclosed.Section,
                $"{file}:{s.Unclosed.Line}: {Describe(s.Unclosed)} opened on line {s.Unclosed.Line} is never closed: the '}}' on line {s.Line} is indented like {Describe(s.ClosedInstead)} (line {s.ClosedInstead.Line}), so add a '}}' before line {s.Line}.");
        var outermost = stack[0];
        var innermost = stack[^1];
        throw new ConfigFileException(file, innermost.Line, innermost.Section,
            $"{file}:{innermost.Line}: {Describe(innermost)} opened on line {innermost.Line} is never closed (the file ends first{(stack.Count > 1 ? $"; {stack.Count} brackets are open, the outermost {Describe(outermost)} from line {outermost.Line}" : "")}); add the closing '{(innermost.Bracket == '{' ? '}' : ']')}'.");
    }

    static int ClosingQuote(string text, int from)
    {
        for (int k = from; k < text.Length; k++)
        {
            if (text[k] == '\\') { k++; continue; }
            if (text[k] == '"') return k;
            if (text[k] == '\n') return -1;
        }
        return -1;
    }

    static string Describe(Open o) => o.Bracket == '{'
        ? (o.Section.Length == 0 ? "the top-level block '{'" : $"section {o.Section} {{")
        : $"the list {o.Section}";

    static string SectionOf(List<Open> stack) => stack.Count == 0 ? "" : stack[^1].Section;

    static string InSection(List<Open> stack) => stack.Count == 0 ? "" : $" (in {stack[^1].Section})";

    static string Join(List<Open> stack, string key) => stack.Count == 0 || stack[^1].Section.Length == 0 ? key : $"{stack[^1].Section}.{key}";

    static int Indent(string text, int lineStart)
    {
        int n = 0;
        while (lineStart + n < text.Length && text[lineStart + n] is ' ' or '\t') n++;
        return n;
    }

    static bool OnlyWhitespaceBefore(string text, int lineStart, int i)
    {
        for (int k = lineStart; k < i; k++) if (text[k] is not (' ' or '\t')) return false;
        return true;
    }
}
