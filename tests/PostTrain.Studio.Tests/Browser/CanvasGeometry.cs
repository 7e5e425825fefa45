using Microsoft.Playwright;

namespace PostTrain.Studio.Tests.Browser;

/// <summary>Where React Flow drew the nodes and edges of one canvas, in page pixels.</summary>
public static class CanvasGeometry
{
    public sealed record Box(double X, double Y, double Width, double Height)
    {
        public double Right => X + Width;
        public double Bottom => Y + Height;
        public bool Overlaps(Box o) => X < o.Right - 0.5 && o.X < Right - 0.5 && Y < o.Bottom - 0.5 && o.Y < Bottom - 0.5;
        public bool Contains(Box o) => o.X >= X - 0.5 && o.Y >= Y - 0.5 && o.Right <= Right + 0.5 && o.Bottom <= Bottom + 0.5;
    }

    /// <summary>Every node's box by its id (React Flow's data-id).</summary>
    public static async Task<Dictionary<string, Box>> NodesAsync(IPage page, string canvas)
    {
        var result = new Dictionary<string, Box>(StringComparer.Ordinal);
        foreach (var node in await page.Locator($"[data-testid={canvas}] .react-flow__node").AllAsync())
        {
            var id = await node.GetAttributeAsync("data-id") ?? throw new Xunit.Sdk.XunitException("a node without data-id");
            result[id] = await BoxOf(node);
        }
        return result;
    }

    /// <summary>Every edge's (source, target), read from ids of the form "KIND:SOURCE->TARGET" (the lineage's).</summary>
    public static async Task<List<(string Source, string Target)>> EdgesAsync(IPage page, string canvas)
    {
        var result = new List<(string, string)>();
        foreach (var edge in await page.Locator($"[data-testid={canvas}] .react-flow__edge").AllAsync())
        {
            var id = await edge.GetAttributeAsync("data-id") ?? "";
            var ends = id[(id.IndexOf(':', StringComparison.Ordinal) + 1)..].Split("->");
            Assert.True(ends.Length == 2, $"edge id '{id}' is not KIND:SOURCE->TARGET");
            result.Add((ends[0], ends[1]));
        }
        return result;
    }

    public static async Task<Box> BoxOf(ILocator locator)
    {
        var b = await locator.BoundingBoxAsync() ?? throw new Xunit.Sdk.XunitException($"{locator} has no box");
        return new Box(b.X, b.Y, b.Width, b.Height);
    }

    /// <summary>Fails naming every node that lies (partly) outside the canvas: a clipped graph.</summary>
    public static async Task AssertAllInsideAsync(IPage page, string canvas)
    {
        var frame = await BoxOf(page.Locator($"[data-testid={canvas}]"));
        var outside = (await NodesAsync(page, canvas)).Where(n => !frame.Contains(n.Value)).Select(n => $"{n.Key} {n.Value}").ToList();
        Assert.True(outside.Count == 0, $"clipped by the canvas {frame}: {string.Join("; ", outside)}");
    }
}
