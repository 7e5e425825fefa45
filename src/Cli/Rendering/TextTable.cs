using Spectre.Console;

namespace PostTrain.Cli.Rendering;

/// <summary>
/// A table of plain cells. On a terminal it is a Spectre table fitted to the terminal's width; otherwise (pipes, files,
/// CI logs) a Markdown table with one row per line, so no cell or run id is ever wrapped.
/// </summary>
public sealed class TextTable(params string[] headers)
{
    private readonly List<string[]> _rows = [];

    public IReadOnlyList<string> Headers { get; } = headers;
    public string? Title { get; init; }
    /// <summary>Column whose cells are run or step states (coloured on a terminal).</summary>
    public int? StateColumn { get; init; }

    public TextTable AddRow(params string[] cells)
    {
        if (cells.Length != Headers.Count) throw new ArgumentException($"row has {cells.Length} cells, expected {Headers.Count} ({string.Join(", ", Headers)})", nameof(cells));
        _rows.Add(cells);
        return this;
    }

    public void Write()
    {
        if (!Output.Terminal)
        {
            // Blank lines around: a Markdown table ends only at a blank line.
            Console.Out.WriteLine();
            if (Title is not null)
            {
                Console.Out.WriteLine($"**{Title}**");
                Console.Out.WriteLine();
            }
            foreach (var line in HeaderLines(Headers)) Console.Out.WriteLine(line);
            foreach (var row in _rows) Console.Out.WriteLine(RowLine(row));
            Console.Out.WriteLine();
            return;
        }
        var table = new Table();
        if (Title is not null) table.Title(Output.Escape(Title));
        // The first column names the row (a run id, a step path, a round): it never wraps; the others share what is left.
        foreach (var (h, i) in Headers.Select((h, i) => (h, i)))
            table.AddColumn(i == 0 ? new TableColumn(Output.Escape(h)).NoWrap() : new TableColumn(Output.Escape(h)));
        foreach (var row in _rows)
            table.AddRow(row.Select((c, i) => i == StateColumn ? RunPrinter.StateMarkup(c) : Output.Escape(c)).ToArray());
        AnsiConsole.Write(table);
    }

    public static IEnumerable<string> HeaderLines(IReadOnlyList<string> headers) =>
        [RowLine(headers), "|" + string.Concat(headers.Select(_ => "---|"))];

    public static string RowLine(IReadOnlyList<string> cells) =>
        "| " + string.Join(" | ", cells.Select(c => c.Replace("|", "\\|", StringComparison.Ordinal).ReplaceLineEndings(" "))) + " |";
}
