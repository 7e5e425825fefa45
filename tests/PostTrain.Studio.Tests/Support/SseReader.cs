using System.Text.Json.Nodes;

namespace PostTrain.Studio.Tests.Support;

/// <summary>Reads a server-sent event stream: (event name, JSON data) pairs until the stream ends or a predicate says stop.</summary>
public static class SseReader
{
    public static async Task<List<(string Event, JsonNode? Data)>> ReadUntilAsync(HttpClient client, string url, Func<string, JsonNode?, bool> stop, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        using var response = await client.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, cts.Token);
        response.EnsureSuccessStatusCode();
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cts.Token));
        var events = new List<(string, JsonNode?)>();
        string? name = null;
        var data = new System.Text.StringBuilder();
        while (await reader.ReadLineAsync(cts.Token) is { } line)
        {
            if (line.StartsWith("event: ", StringComparison.Ordinal)) name = line[7..];
            else if (line.StartsWith("data: ", StringComparison.Ordinal)) data.Append(line[6..]);
            else if (line.Length == 0 && name is not null)
            {
                var node = JsonNode.Parse(data.ToString());
                events.Add((name, node));
                if (stop(name, node)) break;
                name = null;
                data.Clear();
            }
        }
        return events;
    }
}
