namespace FedCoLLM.Benchmarks.WordNet;

/// <summary>Case-insensitive search for a phrase bounded by non-alphanumerics ("dog" is in "a dog's life", not in "dogma").</summary>
internal static class WholePhrase
{
    public static bool Occurs(string text, string phrase)
    {
        for (var start = text.IndexOf(phrase, StringComparison.OrdinalIgnoreCase);
             start >= 0;
             start = text.IndexOf(phrase, start + 1, StringComparison.OrdinalIgnoreCase))
        {
            var end = start + phrase.Length;
            var boundaryBefore = start == 0 || !char.IsLetterOrDigit(text[start - 1]);
            var boundaryAfter = end == text.Length || !char.IsLetterOrDigit(text[end]);
            if (boundaryBefore && boundaryAfter)
            {
                return true;
            }
        }

        return false;
    }
}
