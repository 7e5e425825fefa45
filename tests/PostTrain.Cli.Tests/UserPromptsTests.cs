using System.Text.Json;
using PostTrain.Cli.Tests.Support;

namespace PostTrain.Cli.Tests;

/// <summary>The user's own prompts and verifier: <c>data import --kind prompts</c> and <c>iterate --prompts --verifier</c>.</summary>
public sealed class UserPromptsTests
{
    private static string Gsm8kStyle => Path.Combine(AppContext.BaseDirectory, "Fixtures", "gsm8k-style.jsonl");

    [Fact]
    public async Task Iterate_TinyOnGsm8kStylePrompts_NumericVerifier_EvaluatesHeldOutAndPrintsRunAndCheckpoint()
    {
        using var home = new TempHome("own-prompts");
        var r = await Posttrain.RunAsync(home.Root, TimeSpan.FromMinutes(15), "iterate", "--rounds", "1", "--preset", "tiny",
            "--prompts", Gsm8kStyle, "--verifier", "numeric", "--home", home.Root, "--json");
        Assert.True(r.ExitCode == 0, r.ToString());
        using var doc = JsonDocument.Parse(r.Stdout);
        var root = doc.RootElement;
        var runId = root.GetProperty("runId").GetString();
        Assert.Equal((string?)Snapshots.TryReadOnly(home.Root)!["id"], runId);
        var checkpoint = root.GetProperty("finalCheckpoint").GetString()!;
        Assert.StartsWith("sha256:", checkpoint, StringComparison.Ordinal);
        // Held-out accuracy by the numeric verifier, per round, grouped under the file's layout.
        var rounds = root.GetProperty("report").GetProperty("rounds");
        Assert.Equal(2, rounds.GetArrayLength());
        foreach (var round in rounds.EnumerateArray())
            Assert.InRange(round.GetProperty("heldOutTotal").GetInt32(), 1, 80);
        Assert.Contains("gsm8k", rounds[1].GetProperty("exactMatchByKind").EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public async Task DataImport_Prompts_Json_PrintsArtifactKindAndRows_ThenIterateRefusesUnreadableAnswers()
    {
        using var home = new TempHome("import-prompts");
        var ok = await Posttrain.RunAsync(home.Root, "data", "import", Gsm8kStyle, "--kind", "prompts", "--name", "mine", "--json");
        Assert.True(ok.ExitCode == 0, ok.ToString());
        using (var doc = JsonDocument.Parse(ok.Stdout))
        {
            Assert.StartsWith("sha256:", doc.RootElement.GetProperty("artifact").GetString(), StringComparison.Ordinal);
            Assert.Equal("prompts", doc.RootElement.GetProperty("kind").GetString());
            Assert.Equal(80, doc.RootElement.GetProperty("rows").GetInt32());
        }

        // choice cannot read "… #### 32": refused before any run starts, naming the name and the line.
        var bad = await Posttrain.RunAsync(home.Root, "iterate", "--rounds", "1", "--preset", "tiny", "--prompts", "mine", "--verifier", "choice", "--home", home.Root);
        Assert.True(bad.ExitCode == 1, bad.ToString());
        Assert.Matches(@"gsm8k-style\.jsonl:1: answer: "".*#### 32"" names no choice A-E", bad.Stderr);
        var runs = await Posttrain.RunAsync(home.Root, "runs", "--json");
        Assert.DoesNotContain("iterate", runs.Stdout, StringComparison.Ordinal);

        var unknown = await Posttrain.RunAsync(home.Root, "iterate", "--prompts", "mine", "--verifier", "fuzzy", "--home", home.Root);
        Assert.True(unknown.ExitCode == 2, unknown.ToString());
        Assert.Contains("--verifier: 'fuzzy' is not a verifier", unknown.Stderr, StringComparison.Ordinal);

        var noBase = await Posttrain.RunAsync(home.Root, "iterate", "--prompts", "mine", "--base", "/no/such/dir", "--home", home.Root);
        Assert.True(noBase.ExitCode == 1, noBase.ToString());
        Assert.Contains("--base: '/no/such/dir' is neither a checkpoint directory, a sha256: reference, nor a model name", noBase.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DataImport_PromptsWithBrokenLines_RefusedWholeWithFileLineField()
    {
        using var home = new TempHome("import-bad-prompts");
        var file = Path.Combine(home.Root, "prompts.jsonl");
        await File.WriteAllTextAsync(file, "{\"prompt\": \"ok\"}\n{\"question\": 3}\n" + string.Concat(Enumerable.Repeat("[]\n", 30)));
        var r = await Posttrain.RunAsync(home.Root, "data", "import", file, "--kind", "prompts");
        Assert.True(r.ExitCode == 1, r.ToString());
        Assert.Contains($"{file}:2: question: expected a string, found number", r.Stderr, StringComparison.Ordinal);
        Assert.Contains("... and 11 more", r.Stderr, StringComparison.Ordinal);
        Assert.Contains("31 bad line(s); nothing was stored", r.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(home.Root, "posttrain.db")), "a rejected file opened the database");
    }
}
