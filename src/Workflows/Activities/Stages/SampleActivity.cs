using PostTrain.Model.Prompts;
using PostTrain.Sampling;
using PostTrain.Engine.Store;

namespace PostTrain.Workflows.Activities.Stages;

[Activity("Sample", Category = "Sampling", Pool = "gpu",
    Description = "Samples N responses per prompt from the policy in batches with the KV cache (each prompt prefilled once and shared by its N continuations). One shard of the prompt set; shards merge in a fixed order, and the same seed gives the same responses whatever the batch size or shard count.")]
public sealed class SampleActivity : Activity<SampleActivity.Inputs, SampleActivity.Outputs>
{
    public sealed class Inputs
    {
        private static readonly SamplingOptions Defaults = new();
        [Input("Policy (the current sampler)", Required = true)] public ArtifactRef Policy { get; init; }
        [Input("Task set from GenerateTaskData", Required = true)] public ArtifactRef Tasks { get; init; }
        [Option(typeof(SamplingOptions))] public int SamplesPerPrompt { get; init; } = Defaults.SamplesPerPrompt;
        [Input("This shard's index, 0-based")] public int Shard { get; init; }
        [Input("Shards the prompt set is split into")] public int ShardCount { get; init; } = 1;
        [Input("Round index (0-based): picks the round's prompts and is recorded in provenance")] public int Round { get; init; }
        [Option(typeof(SamplingOptions))] public double Temperature { get; init; } = Defaults.Temperature;
        [Option(typeof(SamplingOptions))] public double TopP { get; init; } = Defaults.TopP;
        [Option(typeof(SamplingOptions))] public int TopK { get; init; } = Defaults.TopK;
        [Option(typeof(SamplingOptions))] public int MaxNewTokens { get; init; } = Defaults.MaxNewTokens;
        [Option(typeof(SamplingOptions))] public int BatchSize { get; init; } = Defaults.BatchSize;
        [Option(typeof(SamplingOptions))] public long KvCacheBudgetBytes { get; init; } = Defaults.KvCacheBudgetBytes;
        [Input("System prompt for this round; empty = none")] public string SystemPrompt { get; init; } = "";
    }

    public sealed class Outputs
    {
        [Output("Sampled responses (JSONL)")] public ArtifactRef Samples { get; init; }
        [Output("Generated tokens per second")] public double TokensPerSecond { get; init; }
        [Output("Rows decoded together (slots), chosen from BatchSize and the K/V memory budget")] public int Slots { get; init; }
        [Output("K/V cache bytes one slot holds")] public long KvBytesPerSlot { get; init; }
    }

    private static readonly SamplingOptions Defaults = new();

    public override Task<Outputs> ExecuteAsync(Inputs input, ActivityContext context)
    {
        if (input.ShardCount < 1 || input.Shard < 0 || input.Shard >= input.ShardCount)
            throw new ArgumentOutOfRangeException(nameof(input), $"shard {input.Shard} of {input.ShardCount}: expected 0 <= shard < shardCount");
        var tasks = TaskSet.Read(StageSupport.PathOf(context, input.Tasks, "task set"));
        var prompts = tasks.SamplingFor(input.Round).Select(t => StageSupport.Prompt(t, input.SystemPrompt)).ToList();
        var shard = SamplingShards.Split(prompts, input.ShardCount)[input.Shard];
        // The seed is the run's, not the step's (whose path holds the shard index): each (prompt, sample) stream is keyed by
        // prompt id, so a prompt draws the same responses whatever shard it lands in.
        var sampler = Sampler.FromCheckpoint(StageSupport.PathOf(context, input.Policy, "policy"), new SamplingOptions
        {
            SamplesPerPrompt = input.SamplesPerPrompt,
            Temperature = input.Temperature,
            TopP = input.TopP,
            TopK = input.TopK,
            MaxNewTokens = input.MaxNewTokens,
            BatchSize = input.BatchSize,
            KvCacheBudgetBytes = input.KvCacheBudgetBytes,
            SystemPrompt = string.IsNullOrEmpty(input.SystemPrompt) ? null : input.SystemPrompt,
            Seed = context.RunSeed,
            Round = input.Round,
        }, StageSupport.Device(context));
        var result = sampler.Sample(shard, context.Progress, context.CancellationToken);
        var file = Path.Combine(context.WorkDirectory, $"samples-{input.Shard:D4}.jsonl");
        SampleFile.Write(file, result.Responses);
        var artifact = StageSupport.StoreFile(context, file);
        context.RecordMetric(MetricKeys.Sample.TokensPerSecond, result.Stats.TokensPerSecond);
        context.RecordMetric(MetricKeys.Sample.Responses, result.Stats.Sequences);
        context.RecordMetric(MetricKeys.Sample.Slots, result.Stats.Slots);
        context.RecordMetric(MetricKeys.Sample.KvBytesPerSlot, result.Stats.KvBytesPerSlot);
        context.RecordMetric(MetricKeys.Sample.KvCacheBytes, result.Stats.KvCacheBytes);
        return Task.FromResult(new Outputs
        {
            Samples = artifact, TokensPerSecond = result.Stats.TokensPerSecond, Slots = result.Stats.Slots, KvBytesPerSlot = result.Stats.KvBytesPerSlot,
        });
    }
}
