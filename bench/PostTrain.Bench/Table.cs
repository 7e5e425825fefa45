using System.Globalization;
using System.Text;

namespace PostTrain.Bench;

/// <summary>A fixed-width text table for the console (the JSON under bench/results is the record).</summary>
internal sealed class Table(string title, params string[] headers)
{
    private readonly List<string[]> _rows = [];

    public void Add(params object?[] cells) => _rows.Add(cells.Select(Format).ToArray());

    public static string Format(object? v) => v switch
    {
        null => "-",
        double d when double.IsNaN(d) => "-",
        double d when Math.Abs(d) >= 1000 => d.ToString("N0", CultureInfo.InvariantCulture),
        double d when Math.Abs(d) >= 10 => d.ToString("F1", CultureInfo.InvariantCulture),
        double d => d.ToString("G3", CultureInfo.InvariantCulture),
        _ => Convert.ToString(v, CultureInfo.InvariantCulture) ?? "",
    };

    public override string ToString()
    {
        var widths = headers.Select((h, i) => Math.Max(h.Length, _rows.Count == 0 ? 0 : _rows.Max(r => i < r.Length ? r[i].Length : 0))).ToArray();
        var sb = new StringBuilder();
        sb.AppendLine().AppendLine($"## {title}");
        sb.AppendLine("| " + string.Join(" | ", headers.Select((h, i) => h.PadRight(widths[i]))) + " |");
        sb.AppendLine("|" + string.Join("|", widths.Select(w => new string('-', w + 2))) + "|");
        foreach (var r in _rows)
            sb.AppendLine("| " + string.Join(" | ", widths.Select((w, i) => (i < r.Length ? r[i] : "").PadRight(w))) + " |");
        return sb.ToString();
    }
}
