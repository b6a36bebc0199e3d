using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace FedCoLLM.Benchmarks.MultipleChoice;

/// <summary>
/// Writes questions in the AI2 JSONL schema, one object per line:
/// <c>{"id": "…", "question": {"stem": "…", "choices": [{"label": "A", "text": "…"}, …]}, "answerKey": "C"}</c>.
/// Output is byte-stable: UTF-8 without BOM, "\n" line endings, fixed property order.
/// </summary>
public static class Ai2JsonlWriter
{
    // Relaxed escaping keeps apostrophes and non-ASCII letters readable; quotes and control characters are still escaped.
    private static readonly JsonWriterOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, Indented = false };

    public static void Write(string path, IEnumerable<MultipleChoiceQuestion> questions)
    {
        using var stream = File.Create(path);
        Write(stream, questions);
    }

    public static void Write(Stream stream, IEnumerable<MultipleChoiceQuestion> questions)
    {
        foreach (var question in questions)
        {
            using (var writer = new Utf8JsonWriter(stream, Options))
            {
                WriteObject(writer, question);
            }

            stream.WriteByte((byte)'\n');
        }
    }

    public static string ToJson(MultipleChoiceQuestion question)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, Options))
        {
            WriteObject(writer, question);
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static void WriteObject(Utf8JsonWriter writer, MultipleChoiceQuestion question)
    {
        writer.WriteStartObject();
        writer.WriteString("id", question.Id);
        writer.WriteStartObject("question");
        writer.WriteString("stem", question.Stem);
        writer.WriteStartArray("choices");
        foreach (var choice in question.Choices)
        {
            writer.WriteStartObject();
            writer.WriteString("label", choice.Label);
            writer.WriteString("text", choice.Text);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
        writer.WriteString("answerKey", question.AnswerKey);
        writer.WriteEndObject();
    }
}
