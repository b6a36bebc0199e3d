using System.Collections;
using System.Globalization;
using System.Reflection;
using System.Text;
using Akka.Actor;

namespace FedCoLLM.Actors.Tests.Serialization;

/// <summary>
/// A canonical text of an object graph (public properties, recursively; sequences item by item; dictionaries sorted
/// by key), so two values compare field by field even where records hold lists and compare those by reference.
/// </summary>
static class Structural
{
    public static string Describe(object? value)
    {
        var text = new StringBuilder();
        Write(text, value, 0);
        return text.ToString();
    }

    static void Write(StringBuilder text, object? value, int depth)
    {
        if (depth > 12) throw new InvalidOperationException("Object graph too deep (a cycle?).");
        switch (value)
        {
            case null:
                text.Append("null");
                return;
            case string s:
                text.Append('"').Append(s).Append('"');
                return;
            case IActorRef actor:
                text.Append("ref(").Append(actor.Path.ToStringWithoutAddress()).Append(')');
                return;
            case DateTimeOffset t:
                text.Append(t.ToString("O", CultureInfo.InvariantCulture));
                return;
            case double d:
                text.Append(d.ToString("R", CultureInfo.InvariantCulture));
                return;
            case IFormattable f when value.GetType().IsPrimitive || value is Enum or TimeSpan or decimal:
                text.Append(f.ToString(null, CultureInfo.InvariantCulture));
                return;
            case bool b:
                text.Append(b);
                return;
            case byte[] bytes:
                text.Append(Convert.ToHexString(bytes));
                return;
            case IDictionary dictionary:
                text.Append('{');
                foreach (var key in dictionary.Keys.Cast<object>().OrderBy(k => k.ToString(), StringComparer.Ordinal))
                {
                    Write(text, key, depth + 1);
                    text.Append(": ");
                    Write(text, dictionary[key], depth + 1);
                    text.Append(", ");
                }
                text.Append('}');
                return;
            case IEnumerable items:
                text.Append('[');
                foreach (var item in items)
                {
                    Write(text, item, depth + 1);
                    text.Append(", ");
                }
                text.Append(']');
                return;
        }
        var type = value.GetType();
        if (type.IsGenericType && type.Name.StartsWith("SourceRefImpl", StringComparison.Ordinal))
        {
            // A stream ref is its partner actor; its Source property would materialize nothing useful.
            text.Append("sourceRef(");
            Write(text, type.GetProperty("InitialPartnerRef")!.GetValue(value), depth + 1);
            text.Append(')');
            return;
        }
        text.Append(type.Name).Append(" { ");
        foreach (var p in type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.GetIndexParameters().Length == 0).OrderBy(p => p.Name, StringComparer.Ordinal))
        {
            if (p.Name == "EqualityContract") continue;
            text.Append(p.Name).Append(" = ");
            Write(text, p.GetValue(value), depth + 1);
            text.Append("; ");
        }
        text.Append('}');
    }
}
