using PostTrain.Model.Checkpoints;
using PostTrain.Model.Tokenization;

namespace PostTrain.Sampling.Tests;

public sealed class ShardsAndFilesTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "posttrain-sampling-tests-" + Guid.NewGuid().ToString("N"));

    internal static ByteBpeTokenizer Tokenizer() =>
        ByteBpeTokenizer.Train(["what is 2 + 3? the answer is 5.", "hello there, how are you today?", "sort 3 1 2 gives 1 2 3"], 300);

    [Fact]
    public void Split_SevenIntoThree_ContiguousSizesThreeTwoTwo()
    {
        var items = Enumerable.Range(0, 7).ToArray();
        var shards = SamplingShards.Split(items, 3);
        Assert.Equal([3, 2, 2], shards.Select(s => s.Count));
        Assert.Equal(items, shards.SelectMany(s => s));
        Assert.Equal(shards.Select(s => s.ToArray()), SamplingShards.Split(items, 3).Select(s => s.ToArray()));
        Assert.Equal([1, 1, 0, 0], SamplingShards.Split([1, 2], 4).Select(s => s.Count));
    }

    [Fact]
    public void ShardedRun_MergedInAnyArrivalOrder_EqualsUnshardedRun()
    {
        using var model = SamplerTests.TinyModel(21);
        var tok = Tokenizer();
        var template = new ChatTemplate(tok);
        var options = new SamplingOptions { SamplesPerPrompt = 2, MaxNewTokens = 6, Seed = 3, BatchSize = 4 };
        var prompts = Enumerable.Range(0, 5).Select(i => new SamplingPrompt($"p{i}", [ChatMessage.User($"what is {i} + 3?")])).ToArray();
        var sampler = new Sampler(model, options, template, "abc123");
        var whole = sampler.Sample(prompts).Responses;

        var shards = SamplingShards.Split(prompts, 3);
        var outputs = shards.Select((s, k) => (k, sampler.Sample(s).Responses)).ToArray();
        var merged = SamplingShards.Merge(outputs.Reverse().Select(x => (x.k, x.Responses)));
        Assert.Equal(Key(whole), Key(merged));

        var files = outputs.Select(x => Path.Combine(_dir, $"shard{x.k}.jsonl")).ToArray();
        for (var k = 0; k < files.Length; k++) SampleFile.Write(files[k], outputs[k].Responses);
        SamplingShards.MergeFiles(files, Path.Combine(_dir, "all.jsonl"));
        Assert.Equal(Key(whole), Key(SampleFile.Read(Path.Combine(_dir, "all.jsonl"))));

        var e = Assert.Throws<ArgumentException>(() => SamplingShards.Merge([(0, outputs[0].Responses), (2, outputs[2].Responses)]));
        Assert.Contains("shard 1 is missing", e.Message);
    }

    [Fact]
    public void Sample_WritesJsonlWithProvenanceAndSystemPrompt_ReadsBackEqual()
    {
        using var model = SamplerTests.TinyModel(22);
        var template = new ChatTemplate(Tokenizer());
        var options = new SamplingOptions { SamplesPerPrompt = 3, MaxNewTokens = 5, Round = 2, SystemPrompt = "be brief", Temperature = 0.7, TopP = 0.9 };
        var result = new Sampler(model, options, template, "ckpt-hash").Sample([new SamplingPrompt("q1", [ChatMessage.User("hello there")])]);
        Assert.Equal(3, result.Responses.Count);
        var r = result.Responses[0];
        Assert.Equal(ChatMessage.System("be brief"), r.Prompt[0]);
        Assert.Equal(new SamplingProvenance(2, "ckpt-hash", 0, 0.7, 0.9, 0), r.Provenance);
        Assert.Equal(template.DecodeResponse(r.TokenIds), r.Response);

        var path = Path.Combine(_dir, "samples.jsonl");
        SampleFile.Write(path, result.Responses);
        var line = File.ReadLines(path).First();
        Assert.Contains("\"prompt_id\":\"q1\"", line);
        Assert.Contains("\"sampler_checkpoint\":\"ckpt-hash\"", line);
        var back = SampleFile.Read(path);
        Assert.Equal(Key(result.Responses), Key(back));
        Assert.Equal(result.Responses.Select(x => x.SumLogProb), back.Select(x => x.SumLogProb));
        Assert.Equal(result.Responses.Select(x => x.Prompt.Count), back.Select(x => x.Prompt.Count));
    }

    [Fact]
    public void FromCheckpoint_RecordsCheckpointHashAndSamplesLikeTheModel()
    {
        using var model = SamplerTests.TinyModel(23);
        var tok = Tokenizer();
        var dir = Path.Combine(_dir, "policy");
        Checkpoint.Save(dir, model, tok);
        var options = new SamplingOptions { SamplesPerPrompt = 2, MaxNewTokens = 4, Seed = 9 };
        SamplingPrompt[] prompts = [new("x", [ChatMessage.User("what is 2 + 3?")])];
        var fromDisk = Sampler.FromCheckpoint(dir, options).Sample(prompts).Responses;
        Assert.All(fromDisk, r => Assert.Equal(Checkpoint.ComputeHash(dir), r.Provenance.SamplerCheckpoint));
        var inMemory = new Sampler(model, options, new ChatTemplate(tok)).Sample(prompts).Responses;
        Assert.Equal(inMemory.Select(r => r.TokenIds), fromDisk.Select(r => r.TokenIds));
    }

    [Fact]
    public void Read_BadLine_ErrorNamesFileAndLine()
    {
        var path = Path.Combine(_dir, "bad.jsonl");
        Directory.CreateDirectory(_dir);
        File.WriteAllText(path, "{\"prompt_id\":\"a\",\"prompt\":[],\"sample_index\":0,\"response\":\"x\",\"token_ids\":[1],\"sum_log_prob\":0,\"stopped\":true,\"provenance\":{\"round\":0,\"seed\":0,\"temperature\":1,\"top_p\":1,\"top_k\":0}}\n{not json\n");
        var e = Assert.Throws<InvalidDataException>(() => SampleFile.Read(path));
        Assert.Contains("bad.jsonl:2:", e.Message);
    }

    private static string[] Key(IEnumerable<SampledResponse> rs) =>
        rs.Select(r => $"{r.PromptId}/{r.SampleIndex}/{string.Join(",", r.TokenIds)}/{r.Response}/{r.Provenance}").ToArray();

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }
}
