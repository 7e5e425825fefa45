using System.Text.Json;
using System.Text.Json.Nodes;
using PostTrain.Cli.Tests.Support;
using PostTrain.Model;
using PostTrain.Model.Checkpoints;
using PostTrain.Model.Tokenization;
using static TorchSharp.torch;

namespace PostTrain.Cli.Tests;

/// <summary>
/// Models by path, sha256: or name (<c>model import</c>, <c>generate --model</c>, <c>iterate --base</c>), <c>export</c>,
/// and the TRL-style one-liners <c>sft</c>, <c>dpo</c>, <c>reward</c>, on a freshly saved tiny random model.
/// </summary>
public sealed class ModelCommandsTests
{
    private static string TinyPolicy(string dir, int seed = 0)
    {
        var tokenizer = ByteBpeTokenizer.Train(["what is 2 + 3? the answer is 5.", "hello there, how are you today?", "sort 3 1 2 gives 1 2 3"], 300);
        manual_seed(seed);
        // Sized to the tokenizer, so whatever a random model samples decodes; this tiny BPE spends many tokens on a task, hence 512 positions.
        using var model = new LlamaForCausalLM(LlamaConfig.Preset("tiny") with { VocabSize = tokenizer.VocabSize, MaxPositionEmbeddings = 512 });
        Checkpoint.Save(dir, model, tokenizer);
        return dir;
    }

    private static string WriteLines(string path, IEnumerable<object> rows)
    {
        File.WriteAllLines(path, rows.Select(r => JsonSerializer.Serialize(r)));
        return path;
    }

    private static string Sft(string dir) => WriteLines(Path.Combine(dir, "sft.jsonl"), Enumerable.Range(0, 12).Select(i =>
        (object)new { prompt = new[] { new { role = "user", content = $"what is {i} + 1?" } }, response = $"{i + 1}" }));

    private static string Pairs(string dir) => WriteLines(Path.Combine(dir, "pairs.jsonl"), Enumerable.Range(0, 12).Select(i =>
        (object)new { prompt = $"what is {i} + 1?", chosen = $"{i + 1}", rejected = $"{i + 2}" }));

    [Fact]
    public async Task ModelImport_ThenGenerateByNameReferenceAndPath_SameText()
    {
        using var home = new TempHome("models");
        var dir = TinyPolicy(Path.Combine(home.Root, "user-model"));
        var import = await Posttrain.RunAsync(home.Root, "model", "import", dir, "--name", "tiny-base", "--json", "--home", home.Root);
        Assert.True(import.ExitCode == 0, import.ToString());
        var artifact = (string)JsonNode.Parse(import.Stdout)!["artifact"]!;
        Assert.StartsWith("sha256:", artifact);

        var texts = new List<string>();
        foreach (var model in new[] { dir, artifact, "tiny-base" })
        {
            var r = await Posttrain.RunAsync(home.Root, "generate", "--model", model, "--prompt", "what is 2 + 3?", "--max-new-tokens", "6", "--home", home.Root);
            Assert.True(r.ExitCode == 0, r.ToString());
            texts.Add(r.Stdout);
        }
        Assert.All(texts, t => Assert.Equal(texts[0], t));
        var list = await Posttrain.RunAsync(home.Root, "model", "list", "--home", home.Root);
        Assert.Contains($"tiny-base\t{artifact}", list.Stdout);
    }

    [Theory]
    [InlineData("/no/such/dir", "error: --model: '/no/such/dir' is neither a checkpoint directory, a sha256: reference, nor a model name")]
    [InlineData("sha256:1234", "error: --model: 'sha256:1234' is not an artifact reference")]
    [InlineData("sha256:0000000000000000000000000000000000000000000000000000000000000000", "error: --model: sha256:0000000000000000000000000000000000000000000000000000000000000000 is not in the artifact store")]
    public async Task Generate_BadModel_OneLineErrorExitOne(string model, string expected)
    {
        using var home = new TempHome("badmodel");
        var r = await Posttrain.RunAsync(home.Root, "generate", "--model", model, "--prompt", "hi", "--home", home.Root);
        Assert.Equal(1, r.ExitCode);
        Assert.StartsWith(expected, r.Stderr);
        Assert.Single(r.Stderr.Trim().Split('\n'));
    }

    [Fact]
    public async Task Iterate_BaseThatIsNoCheckpoint_FailsAtOnceWithoutARun()
    {
        using var home = new TempHome("badbase");
        foreach (var args in new[] { new[] { "--base", "/some/dir" }, new[] { "-p", "base=/some/dir" } })
        {
            var r = await Posttrain.RunAsync(home.Root, ["iterate", "--preset", "tiny", "--rounds", "1", "--home", home.Root, .. args]);
            Assert.Equal(1, r.ExitCode);
            Assert.Contains("error: --base: '/some/dir' is neither a checkpoint directory", r.Stderr);
            Assert.DoesNotContain("retrying", r.Stderr + r.Stdout);
            Assert.False(Directory.Exists(home.Runs) && Directory.GetFiles(home.Runs).Length > 0, "a run was started");
        }
    }

    [Fact]
    public async Task SftOneLiner_WritesHfDirectory_ExportOfItsRunLoadsBackAndGenerates()
    {
        using var home = new TempHome("sft");
        var dir = TinyPolicy(Path.Combine(home.Root, "user-model"), seed: 1);
        var outDir = Path.Combine(home.Root, "sft-out");
        var r = await Posttrain.RunAsync(home.Root, TimeSpan.FromMinutes(5), "sft", "--model", dir, "--data", Sft(home.Root), "--out", outDir, "--epochs", "1", "--json", "--home", home.Root);
        Assert.True(r.ExitCode == 0, r.ToString());
        var result = JsonNode.Parse(r.Stdout)!;
        Assert.Equal("LlamaForCausalLM", (string?)result["architecture"]);
        Assert.Equal(["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"], Directory.GetFiles(outDir).Select(Path.GetFileName).Order(StringComparer.Ordinal));

        var exported = Path.Combine(home.Root, "exported");
        var export = await Posttrain.RunAsync(home.Root, "export", (string)result["runId"]!, "--out", exported, "--home", home.Root);
        Assert.True(export.ExitCode == 0, export.ToString());
        Assert.Contains((string)result["checkpoint"]!, export.Stdout);
        using (var loaded = Checkpoint.Load(exported).Model)
        using (var trained = Checkpoint.Load(outDir).Model)
            Assert.True(loaded.model.embed_tokens.weight!.allclose(trained.model.embed_tokens.weight!, rtol: 0, atol: 0));
        var g = await Posttrain.RunAsync(home.Root, "generate", "--model", exported, "--prompt", "what is 2 + 3?", "--max-new-tokens", "4", "--json");
        Assert.True(g.ExitCode == 0, g.ToString());
        Assert.NotEmpty(JsonNode.Parse(g.Stdout)!["token_ids"]!.AsArray());

        var again = await Posttrain.RunAsync(home.Root, "export", (string)result["runId"]!, "--out", exported, "--home", home.Root);
        Assert.Equal(1, again.ExitCode);
        Assert.Contains("exists and is not empty", again.Stderr);
    }

    [Fact]
    public async Task DpoCdpoAndRewardOneLiners_WriteHfDirectories_TheRewardModelFeedsIterateChecks()
    {
        using var home = new TempHome("dpo");
        var dir = TinyPolicy(Path.Combine(home.Root, "user-model"), seed: 2);
        var pairs = Pairs(home.Root);
        var dpoOut = Path.Combine(home.Root, "dpo-out");
        var dpo = await Posttrain.RunAsync(home.Root, TimeSpan.FromMinutes(5), "dpo", "--model", dir, "--data", pairs, "--out", dpoOut, "--loss", "cdpo", "--beta", "0.2", "--home", home.Root);
        Assert.True(dpo.ExitCode == 0, dpo.ToString());
        Assert.True(File.Exists(Path.Combine(dpoOut, "model.safetensors")));
        using (var trained = Checkpoint.Load(dpoOut).Model)
        using (var start = Checkpoint.Load(dir).Model)
            Assert.False(trained.model.embed_tokens.weight!.allclose(start.model.embed_tokens.weight!), "DPO changed nothing");

        var rmOut = Path.Combine(home.Root, "rm-out");
        var rm = await Posttrain.RunAsync(home.Root, TimeSpan.FromMinutes(5), "reward", "--model", dir, "--data", pairs, "--out", rmOut, "--home", home.Root);
        Assert.True(rm.ExitCode == 0, rm.ToString());
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(rmOut, "config.json")))!;
        Assert.Equal("LlamaForSequenceClassification", (string?)config["architectures"]![0]);
        Assert.Equal(1, (int)config["num_labels"]!);
        using (var loaded = PostTrain.RewardModel.RewardModel.Load(rmOut))
            Assert.Equal(2, loaded.Score([([ChatMessage.User("what is 1 + 1?")], "2"), ([ChatMessage.User("what is 1 + 1?")], "3")]).Length);

        // A policy given as the reward model is refused up front, naming what it is.
        var wrong = await Posttrain.RunAsync(home.Root, "iterate", "--preset", "tiny", "--rounds", "1", "--reward-model", dir, "--home", home.Root);
        Assert.Equal(1, wrong.ExitCode);
        Assert.Contains("is a policy checkpoint, expected a reward model", wrong.Stderr);
    }

    [Fact]
    public async Task Iterate_UsersBaseDirOnGsm8kStylePrompts_NumericVerifier_TrainsFromThatBaseAndChecksHeldOut()
    {
        using var home = new TempHome("ownbase-prompts");
        var baseDir = TinyPolicy(Path.Combine(home.Root, "user-base"), seed: 6);
        var prompts = Path.Combine(AppContext.BaseDirectory, "Fixtures", "gsm8k-style.jsonl");
        var r = await Posttrain.RunAsync(home.Root, TimeSpan.FromMinutes(20), "iterate", "--preset", "tiny", "--rounds", "1",
            "--base", baseDir, "--prompts", prompts, "--verifier", "numeric", "--json", "--home", home.Root);
        Assert.True(r.ExitCode == 0, r.ToString());
        var result = JsonNode.Parse(r.Stdout[r.Stdout.IndexOf("{\n", StringComparison.Ordinal)..])!;
        Assert.StartsWith("sha256:", (string)result["finalCheckpoint"]!);
        // The rounds started from the user's directory, not a pretrained base, and the verifier checked the held-out split.
        var run = Snapshots.TryReadOnly(home.Root)!;
        var pretrainOut = (string)JsonNode.Parse((string)Snapshots.Step(run, "pretrain")!["outputsJson"]!)!["checkpoint"]!;
        var importedBase = JsonNode.Parse((await Posttrain.RunAsync(home.Root, "model", "import", baseDir, "--json", "--home", home.Root)).Stdout)!;
        Assert.Equal((string)importedBase["artifact"]!, pretrainOut);
        foreach (var round in result["report"]!["rounds"]!.AsArray())
            Assert.InRange((int)round!["heldOutTotal"]!, 1, 80);
    }

    [Fact]
    public async Task Iterate_UsersBaseAndHfRewardModel_RunsAndNamesItsFinalModel_WhichExports()
    {
        using var home = new TempHome("ownmodels");
        var baseDir = TinyPolicy(Path.Combine(home.Root, "user-base"), seed: 5);
        // The user's reward model as Hugging Face saves it (LlamaForSequenceClassification), made from a PostTrain RM.
        var rmSource = Path.Combine(home.Root, "rm-posttrain");
        var policy = Checkpoint.Load(baseDir);
        using (var rm = new PostTrain.RewardModel.RewardModel(policy.Model, policy.Tokenizer))
            rm.Save(rmSource);
        var rmDir = Path.Combine(home.Root, "user-rm");
        Assert.Equal("LlamaForSequenceClassification", PostTrain.Workflows.Models.ModelExporter.Export(rmSource, rmDir));

        var r = await Posttrain.RunAsync(home.Root, TimeSpan.FromMinutes(20), "iterate", "--preset", "tiny", "--rounds", "1",
            "--base", baseDir, "--reward-model", rmDir, "--json", "--home", home.Root);
        Assert.True(r.ExitCode == 0, r.ToString());
        // Engine warnings (e.g. a round that kept no sample) are logged to stdout ahead of the JSON document.
        var result = JsonNode.Parse(r.Stdout[r.Stdout.IndexOf("{\n", StringComparison.Ordinal)..])!;
        var runId = (string)result["runId"]!;
        var final = (string)result["finalCheckpoint"]!;
        Assert.StartsWith("sha256:", final);

        // The run used the given models: their stored hashes are what `model import` of the same directories gives.
        var run = Snapshots.TryReadOnly(home.Root)!;
        string StepCheckpoint(string step) => (string)JsonNode.Parse((string)Snapshots.Step(run, step)!["outputsJson"]!)!["checkpoint"]!;
        var importedRm = JsonNode.Parse((await Posttrain.RunAsync(home.Root, "model", "import", rmDir, "--json", "--home", home.Root)).Stdout)!;
        var importedBase = JsonNode.Parse((await Posttrain.RunAsync(home.Root, "model", "import", baseDir, "--json", "--home", home.Root)).Stdout)!;
        Assert.Equal((string)importedRm["artifact"]!, StepCheckpoint("rm"));
        Assert.Equal((string)importedBase["artifact"]!, StepCheckpoint("pretrain"));

        var exported = Path.Combine(home.Root, "final");
        var export = await Posttrain.RunAsync(home.Root, "export", runId, "--out", exported, "--home", home.Root);
        Assert.True(export.ExitCode == 0, export.ToString());
        Assert.Contains(final, export.Stdout);
        var g = await Posttrain.RunAsync(home.Root, "generate", "--model", exported, "--prompt", "what is 2 + 3?", "--max-new-tokens", "4");
        Assert.True(g.ExitCode == 0, g.ToString());
    }

    [Fact]
    public async Task DpoOneLiner_BadLine_ListedAndNothingRun()
    {
        using var home = new TempHome("dpobad");
        var dir = TinyPolicy(Path.Combine(home.Root, "user-model"));
        var bad = Path.Combine(home.Root, "bad.jsonl");
        File.WriteAllLines(bad, ["""{"prompt": "x", "chosen": "a", "rejected": "b"}""", """{"prompt": "y", "chosen": "a"}"""]);
        var outDir = Path.Combine(home.Root, "never");
        var r = await Posttrain.RunAsync(home.Root, "dpo", "--model", dir, "--data", bad, "--out", outDir, "--home", home.Root);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains($"{bad}:2: format:", r.Stderr);
        Assert.Contains("nothing was run", r.Stderr);
        Assert.False(Directory.Exists(outDir));
        Assert.False(Directory.Exists(home.Runs) && Directory.GetFiles(home.Runs).Length > 0, "a run was started");
    }
}
