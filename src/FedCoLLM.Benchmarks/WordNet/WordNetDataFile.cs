using System.Globalization;
using System.Text;

namespace FedCoLLM.Benchmarks.WordNet;

/// <summary>
/// Reads a WordNet 3.0 data file (data.noun, data.verb, data.adj, data.adv) as documented in wndb(5WN):
/// <c>synset_offset lex_filenum ss_type w_cnt word lex_id [word lex_id…] p_cnt [ptr…] [frames…] | gloss</c>.
/// Strict: any deviation throws <see cref="WordNetFormatException"/> naming the file and line.
/// </summary>
public static class WordNetDataFile
{
    /// <summary>Parses the data file at <paramref name="path"/>.</summary>
    public static IReadOnlyList<Synset> Read(string path) => Parse(Path.GetFileName(path), File.ReadAllBytes(path));

    /// <summary>
    /// Parses the bytes of a data file. Licence header lines (two leading spaces) are skipped; every other
    /// line's synset_offset must equal its byte offset in the file, because pointers address synsets that way.
    /// </summary>
    public static IReadOnlyList<Synset> Parse(string fileName, ReadOnlySpan<byte> content)
    {
        var synsets = new List<Synset>();
        var position = 0;
        var lineNumber = 0;
        while (position < content.Length)
        {
            lineNumber++;
            var length = content[position..].IndexOf((byte)'\n');
            var lineBytes = length < 0 ? content[position..] : content.Slice(position, length);
            if (!lineBytes.StartsWith("  "u8) && !lineBytes.IsEmpty)
            {
                string line;
                try
                {
                    line = StrictUtf8.GetString(lineBytes).TrimEnd(' '); // every data line ends in two spaces
                }
                catch (DecoderFallbackException)
                {
                    throw new WordNetFormatException(fileName, lineNumber, "not valid UTF-8");
                }

                synsets.Add(new LineParser(fileName, lineNumber, line).Parse(position));
            }

            position += length < 0 ? lineBytes.Length : length + 1;
        }

        return synsets;
    }

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private ref struct LineParser(string fileName, int lineNumber, string line)
    {
        private int _cursor;

        public Synset Parse(int bytePosition)
        {
            var offsetText = Next("synset_offset");
            if (offsetText.Length != 8 || !int.TryParse(offsetText, NumberStyles.None, CultureInfo.InvariantCulture, out var offset))
            {
                throw Fail($"bad synset_offset '{offsetText}' (expected 8 decimal digits)");
            }

            if (offset != bytePosition)
            {
                throw Fail($"bad synset_offset {offsetText}: the line starts at byte {bytePosition}");
            }

            var lexFileText = Next("lex_filenum");
            if (lexFileText.Length != 2 || !int.TryParse(lexFileText, NumberStyles.None, CultureInfo.InvariantCulture, out var lexFile)
                || lexFile >= LexicographerFiles.Count)
            {
                throw Fail($"bad lex_filenum '{lexFileText}' (expected 00–{LexicographerFiles.Count - 1:D2})");
            }

            var typeText = Next("ss_type");
            if (typeText.Length != 1 || !"nvasr".Contains(typeText[0]))
            {
                throw Fail($"bad ss_type '{typeText}' (expected one of n, v, a, s, r)");
            }

            var wordCount = Hex(Next("w_cnt"), "w_cnt", digits: 2);
            if (wordCount == 0)
            {
                throw Fail("bad w_cnt 00 (a synset has at least one word)");
            }

            var words = new string[wordCount];
            for (var i = 0; i < wordCount; i++)
            {
                words[i] = StripAdjectiveMarker(Next("word", i, wordCount).ToString());
                Hex(Next("lex_id of word", i, wordCount), "lex_id", digits: 1);
            }

            var pointerCountText = Next("p_cnt");
            if (pointerCountText.Length != 3 || !int.TryParse(pointerCountText, NumberStyles.None, CultureInfo.InvariantCulture, out var pointerCount))
            {
                throw Fail($"bad p_cnt '{pointerCountText}' (expected 3 decimal digits)");
            }

            var pointers = new SynsetPointer[pointerCount];
            for (var i = 0; i < pointerCount; i++)
            {
                var symbol = PointerSymbol(Next("pointer", i, pointerCount));
                var targetText = Next("synset_offset of pointer", i, pointerCount);
                if (targetText.Length != 8 || !int.TryParse(targetText, NumberStyles.None, CultureInfo.InvariantCulture, out var target))
                {
                    throw Fail($"bad synset_offset '{targetText}' in pointer {i + 1} of {pointerCount} (expected 8 decimal digits)");
                }

                var posText = Next("pos of pointer", i, pointerCount);
                if (posText.Length != 1 || !"nvasr".Contains(posText[0]))
                {
                    throw Fail($"bad pos '{posText}' in pointer {i + 1} of {pointerCount}");
                }

                var sourceTarget = Hex(Next("source/target of pointer", i, pointerCount), "source/target", digits: 4);
                pointers[i] = new SynsetPointer(symbol, target, posText[0], sourceTarget >> 8, sourceTarget & 0xFF);
            }

            if (typeText[0] == 'v')
            {
                SkipVerbFrames();
            }

            var separator = Next("'|' before the gloss");
            if (separator is not "|")
            {
                throw Fail($"expected '|' before the gloss after {pointerCount} pointers, found '{separator}' (bad w_cnt or p_cnt?)");
            }

            var gloss = _cursor < line.Length ? line[_cursor..].Trim() : "";
            return new Synset(offset, lexFile, typeText[0], words, pointers, gloss);
        }

        private void SkipVerbFrames()
        {
            var frameCount = int.TryParse(Next("f_cnt"), NumberStyles.None, CultureInfo.InvariantCulture, out var count)
                ? count
                : throw Fail("bad f_cnt (expected decimal digits)");
            for (var i = 0; i < frameCount; i++)
            {
                if (Next("frame", i, frameCount) is not "+")
                {
                    throw Fail($"bad frame {i + 1} of {frameCount} (expected '+ f_num w_num')");
                }

                Next("f_num of frame", i, frameCount);
                Next("w_num of frame", i, frameCount);
            }
        }

        /// <summary>The next space-separated field; <paramref name="field"/> (item index of count) names it in errors.</summary>
        private ReadOnlySpan<char> Next(string field, int index = -1, int count = 0)
        {
            if (_cursor >= line.Length)
            {
                throw Fail($"truncated line: missing {Describe(field, index, count)}");
            }

            var end = line.IndexOf(' ', _cursor);
            if (end < 0)
            {
                end = line.Length;
            }

            var token = line.AsSpan(_cursor, end - _cursor);
            _cursor = end + 1;
            return token.Length > 0 ? token : throw Fail($"empty field where {Describe(field, index, count)} was expected");
        }

        private static string Describe(string field, int index, int count) => index < 0 ? field : $"{field} {index + 1} of {count}";

        // The closed set of wndb(5WN) pointer symbols, shared instead of allocated per pointer.
        private static readonly string[] PointerSymbols =
            ["!", "@", "@i", "~", "~i", "#m", "#s", "#p", "%m", "%s", "%p", "=", "+", ";c", "-c", ";r", "-r", ";u", "-u", "*", ">", "^", "$", "&", "<", "\\"];

        private static string PointerSymbol(ReadOnlySpan<char> symbol)
        {
            foreach (var known in PointerSymbols)
            {
                if (symbol.SequenceEqual(known))
                {
                    return known;
                }
            }

            return symbol.ToString();
        }

        private int Hex(ReadOnlySpan<char> text, string field, int digits) =>
            text.Length == digits && int.TryParse(text, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var value)
                ? value
                : throw Fail($"bad {field} '{text}' (expected {digits} hexadecimal digit{(digits == 1 ? "" : "s")})");

        private readonly WordNetFormatException Fail(string problem) => new(fileName, lineNumber, problem);

        // data.adj appends a syntactic marker to some words: "(p)", "(a)" or "(ip)".
        private static string StripAdjectiveMarker(string word) =>
            word.EndsWith(')') && word.LastIndexOf('(') is var open and > 0 ? word[..open] : word;
    }
}
