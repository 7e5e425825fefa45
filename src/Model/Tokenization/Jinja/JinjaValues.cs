using System.Globalization;
using System.Text;

namespace PostTrain.Model.Tokenization.Jinja;

/// <summary>Jinja's Undefined: prints as "", is falsy, and fails when an attribute of it is read.</summary>
internal sealed class Undefined
{
    public static readonly Undefined Instance = new();
    private Undefined() { }
}

/// <summary>What namespace(...) returns: the one object a loop body can change and the outer scope then sees.</summary>
internal sealed class JinjaNamespace
{
    public Dictionary<string, object?> Values { get; } = new(StringComparer.Ordinal);
}

/// <summary>A callable value: a global (raise_exception, namespace, range) or a bound method ("x".strip).</summary>
internal sealed record JinjaFunction(string Name, Func<List<object?>, Dictionary<string, object?>, object?> Invoke);

/// <summary>
/// Python semantics of the values a chat template handles: None, bool, int (long), float (double), str, list,
/// dict, namespace, Undefined. Printing, truthiness, equality and ordering follow Python as Jinja2 sees it.
/// </summary>
internal static class JinjaValues
{
    public static bool Truthy(object? v) => v switch
    {
        null or Undefined => false,
        bool b => b,
        long l => l != 0,
        double d => d != 0,
        string s => s.Length > 0,
        List<object?> l => l.Count > 0,
        Dictionary<string, object?> d => d.Count > 0,
        _ => true,
    };

    /// <summary>Python's str() of a value, as {{ value }} prints it.</summary>
    public static string Str(object? v) => v switch
    {
        null => "None",
        Undefined => "",
        string s => s,
        bool b => b ? "True" : "False",
        long l => l.ToString(CultureInfo.InvariantCulture),
        double d => Float(d),
        _ => Repr(v),
    };

    public static string Repr(object? v) => v switch
    {
        string s => ReprString(s),
        List<object?> l => "[" + string.Join(", ", l.Select(Repr)) + "]",
        Dictionary<string, object?> d => "{" + string.Join(", ", d.Select(kv => ReprString(kv.Key) + ": " + Repr(kv.Value))) + "}",
        JinjaNamespace => "<Namespace>",
        JinjaFunction f => $"<function {f.Name}>",
        _ => Str(v),
    };

    private static string ReprString(string s)
    {
        var quote = s.Contains('\'') && !s.Contains('"') ? '"' : '\'';
        var sb = new StringBuilder().Append(quote);
        foreach (var c in s)
        {
            switch (c)
            {
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                default:
                    if (c == quote) sb.Append('\\').Append(c);
                    else if (c < 0x20 || c == 0x7f) sb.Append("\\x").Append(((int)c).ToString("x2", CultureInfo.InvariantCulture));
                    else sb.Append(c);
                    break;
            }
        }
        return sb.Append(quote).ToString();
    }

    /// <summary>Python's repr of a float: shortest round-trip digits, always with a decimal point or exponent.</summary>
    public static string Float(double d)
    {
        if (double.IsNaN(d)) return "nan";
        if (double.IsInfinity(d)) return d > 0 ? "inf" : "-inf";
        var r = d.ToString("R", CultureInfo.InvariantCulture);
        if (r.Contains('E'))
        {
            // .NET writes 1E+16; Python writes 1e+16.
            var parts = r.Split('E');
            var exp = int.Parse(parts[1], CultureInfo.InvariantCulture);
            return parts[0] + "e" + (exp < 0 ? "-" : "+") + Math.Abs(exp).ToString("00", CultureInfo.InvariantCulture);
        }
        return r.Contains('.') ? r : r + ".0";
    }

    public static new bool Equals(object? a, object? b) => (a, b) switch
    {
        (null, null) => true,
        (Undefined, Undefined) => true,
        (bool x, bool y) => x == y,
        (bool x, long y) => (x ? 1 : 0) == y,
        (long x, bool y) => x == (y ? 1 : 0),
        (long x, long y) => x == y,
        (long x, double y) => x == y,
        (double x, long y) => x == y,
        (double x, double y) => x == y,
        (string x, string y) => x == y,
        (List<object?> x, List<object?> y) => x.Count == y.Count && x.Zip(y).All(p => Equals(p.First, p.Second)),
        (Dictionary<string, object?> x, Dictionary<string, object?> y) =>
            x.Count == y.Count && x.All(kv => y.TryGetValue(kv.Key, out var o) && Equals(kv.Value, o)),
        _ => ReferenceEquals(a, b),
    };

    public static int Compare(object? a, object? b, string where) => (a, b) switch
    {
        (string x, string y) => string.CompareOrdinal(x, y),
        _ when IsNumber(a) && IsNumber(b) => ToDouble(a).CompareTo(ToDouble(b)),
        _ => throw new JinjaException($"{where}: cannot compare {TypeName(a)} with {TypeName(b)}"),
    };

    public static bool IsNumber(object? v) => v is long or double or bool;

    public static double ToDouble(object? v) => v switch { long l => l, double d => d, bool b => b ? 1 : 0, _ => double.NaN };

    public static string TypeName(object? v) => v switch
    {
        null => "NoneType",
        Undefined => "Undefined",
        string => "str",
        bool => "bool",
        long => "int",
        double => "float",
        List<object?> => "list",
        Dictionary<string, object?> => "dict",
        JinjaNamespace => "Namespace",
        _ => "function",
    };

    /// <summary>Python's str.isspace per character (wider than char.IsWhiteSpace: it includes U+001C..U+001F).</summary>
    public static bool IsSpace(char c) => char.IsWhiteSpace(c) || c is >= '\x1c' and <= '\x1f';

    public static string Strip(string s, string? chars, bool left, bool right)
    {
        Func<char, bool> drop = chars is null ? IsSpace : c => chars.Contains(c);
        int start = 0, end = s.Length;
        if (left) while (start < end && drop(s[start])) start++;
        if (right) while (end > start && drop(s[end - 1])) end--;
        return s[start..end];
    }

    /// <summary>Values read from a JSON document (messages, tools), as Python's json.loads gives them.</summary>
    public static object? FromJson(System.Text.Json.JsonElement e) => e.ValueKind switch
    {
        System.Text.Json.JsonValueKind.String => e.GetString(),
        System.Text.Json.JsonValueKind.Number => e.TryGetInt64(out var l) ? l : e.GetDouble(),
        System.Text.Json.JsonValueKind.True => true,
        System.Text.Json.JsonValueKind.False => false,
        System.Text.Json.JsonValueKind.Array => e.EnumerateArray().Select(FromJson).ToList(),
        System.Text.Json.JsonValueKind.Object => e.EnumerateObject().ToDictionary(p => p.Name, p => FromJson(p.Value), StringComparer.Ordinal),
        _ => null,
    };

    /// <summary>Python's json.dumps(v, ensure_ascii=False, indent=indent), which Hugging Face installs as tojson.</summary>
    public static string ToJson(object? v, int? indent, string where)
    {
        var sb = new StringBuilder();
        WriteJson(sb, v, indent, 0, where);
        return sb.ToString();
    }

    private static void WriteJson(StringBuilder sb, object? v, int? indent, int depth, string where)
    {
        string Newline(int d) => indent is { } n ? "\n" + new string(' ', n * d) : "";
        var itemSep = indent is null ? ", " : ",";
        switch (v)
        {
            case null: sb.Append("null"); break;
            case bool b: sb.Append(b ? "true" : "false"); break;
            case long l: sb.Append(l.ToString(CultureInfo.InvariantCulture)); break;
            case double d: sb.Append(double.IsNaN(d) ? "NaN" : double.IsInfinity(d) ? (d > 0 ? "Infinity" : "-Infinity") : Float(d)); break;
            case string s: JsonString(sb, s); break;
            case List<object?> l:
                if (l.Count == 0) { sb.Append("[]"); break; }
                sb.Append('[');
                for (var i = 0; i < l.Count; i++)
                {
                    if (i > 0) sb.Append(itemSep);
                    sb.Append(Newline(depth + 1));
                    WriteJson(sb, l[i], indent, depth + 1, where);
                }
                sb.Append(Newline(depth)).Append(']');
                break;
            case Dictionary<string, object?> dict:
                if (dict.Count == 0) { sb.Append("{}"); break; }
                sb.Append('{');
                var first = true;
                foreach (var (key, value) in dict)
                {
                    if (!first) sb.Append(itemSep);
                    first = false;
                    sb.Append(Newline(depth + 1));
                    JsonString(sb, key);
                    sb.Append(": ");
                    WriteJson(sb, value, indent, depth + 1, where);
                }
                sb.Append(Newline(depth)).Append('}');
                break;
            default: throw new JinjaException($"{where}: tojson: Object of type {TypeName(v)} is not JSON serializable");
        }
    }

    private static void JsonString(StringBuilder sb, string s)
    {
        sb.Append('"');
        foreach (var c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                default:
                    if (c < 0x20) sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    else sb.Append(c);
                    break;
            }
        }
        sb.Append('"');
    }
}
