using Microsoft.Extensions.Logging;
using PostTrain.Model.Prompts;
using PostTrain.Model.Data;
using PostTrain.Sampling;
using PostTrain.Sampling.Rejection;
using PostTrain.Engine.Store;
using RM = PostTrain.RewardModel.RewardModel;

namespace PostTrain.Workflows.Activities.Stages;

[Activity("ScoreAndReject", Category = "Sampling", Pool = "gpu",
    Description = "Rejection sampling: scores every sampled response with the reward model, keeps the best per prompt as SFT data (duplicates dropped, optional minimum score), and keeps best vs worst as a DPO pair when their scores differ by more than a margin. Every example records round, sampler, reward model and scores.")]
public sealed class ScoreAndRejectActivity : Activity<ScoreAndRejectActivity.Inputs, ScoreAndRejectActivity.Outputs>
{
    public sealed class Inputs
    {
        private static readonly RejectionOptions Defaults = new();
        [Input("Sample shards, merged in this order", Required = true)] public ArtifactRef[] Samples { get; init; } = [];
        [Input("Reward model checkpoint", Required = true)] public ArtifactRef RewardModel { get; init; }
        [Input("Task set, for the checker modes")] public ArtifactRef? Tasks { get; init; }
        [Input("Round index, recorded in provenance")] public int Round { get; init; }
        [Option(typeof(RejectionOptions))] public double? MinScore { get; init; } = Defaults.MinScore;
        [Option(typeof(RejectionOptions))] public double PairMargin { get; init; } = Defaults.PairMargin;
        [Option(typeof(RejectionOptions))] public string Checker { get; init; } = Defaults.Checker.ToString();
        [Option(typeof(RejectionOptions))] public int MaxKindUpsample { get; init; } = Defaults.MaxKindUpsample;
        [Option(typeof(RejectionOptions))] public int PretrainingReplay { get; init; } = Defaults.PretrainingReplay;
    }

    public sealed class Outputs
    {
        [Output("SFT examples (JSONL)")] public ArtifactRef Sft { get; init; }
        [Output("DPO preference pairs (JSONL)")] public ArtifactRef Preferences { get; init; }
        [Output("SFT examples kept")] public int SftKept { get; init; }
        [Output("Pairs kept")] public int PairsKept { get; init; }
    }

    public override Task<Outputs> ExecuteAsync(Inputs input, ActivityContext context)
    {
        if (input.Samples.Length == 0) throw new ArgumentException("ScoreAndReject needs at least one sample shard");
        if (!Enum.TryParse<CheckerMode>(input.Checker, ignoreCase: true, out var checker))
            throw new ArgumentException($"Checker is '{input.Checker}', expected one of {string.Join(", ", Enum.GetNames<CheckerMode>())}");
        var shards = input.Samples.Select((s, i) => (i, SampleFile.Read(StageSupport.PathOf(context, s, $"sample shard {i}")))).ToList();
        var merged = SamplingShards.Merge(shards);
        // An empty answer is never a training target, and an empty rejected side is not a valid preference pair.
        var responses = merged.Where(r => !string.IsNullOrWhiteSpace(r.Response)).ToList();
        context.RecordMetric(MetricKeys.Reject.EmptyResponses, merged.Count - responses.Count);
        var taskSet = input.Tasks is { } t ? TaskSet.Read(StageSupport.PathOf(context, t, "task set")) : null;
        var replay = PretrainingReplay.ForTaskSet(taskSet, input.PretrainingReplay, input.Round);
        var tasks = taskSet?.ById();
        var verifier = taskSet?.CreateVerifier() ?? new CheckerVerifier();
        using var rm = RM.Load(StageSupport.PathOf(context, input.RewardModel, "reward model"), StageSupport.Device(context));
        var result = new RejectionSampler(rm, new RejectionOptions { MinScore = input.MinScore, PairMargin = input.PairMargin, Checker = checker, MaxKindUpsample = input.MaxKindUpsample })
            .Run(responses, tasks, context.Progress, context.CancellationToken, verifier);
        result = result with { Pairs = result.Pairs.Select(p => VerifierLabels.Apply(p, verifier.Name)).ToList(), Sft = [.. result.Sft, .. replay] };
        var sftPath = Path.Combine(context.WorkDirectory, "sft.jsonl");
        var pairsPath = Path.Combine(context.WorkDirectory, "preferences.jsonl");
        RejectionSampler.Write(result, sftPath, pairsPath);
        var s = result.Stats;
        context.RecordMetric(MetricKeys.Reject.SftKept, s.SftKept);
        context.RecordMetric(MetricKeys.Reject.PairsKept, s.PairsKept);
        context.RecordMetric(MetricKeys.Reject.Duplicates, s.Duplicates);
        if (double.IsFinite(s.MeanScore)) context.RecordMetric(MetricKeys.Reject.MeanScore, s.MeanScore);
        if (double.IsFinite(s.MeanBestScore)) context.RecordMetric(MetricKeys.Reject.MeanBestScore, s.MeanBestScore);
        if (tasks is not null)
        {
            var verdicts = result.Scored.Where(x => tasks.ContainsKey(x.Response.PromptId)).Select(x => verifier.Verify(tasks[x.Response.PromptId], x.Response.Response))
                .Where(v => v is not null).ToList();
            if (verdicts.Count > 0) context.RecordMetric(MetricKeys.Reject.SampleAccuracy, verdicts.Count(v => v == true) / (double)verdicts.Count);
        }
        if (s.SftKept == 0)
            context.Logger.LogWarning("rejection sampling kept no SFT example from {Responses} responses (threshold {MinScore}, checker {Checker}); SFT will keep the policy", s.Responses, input.MinScore, checker);
        return Task.FromResult(new Outputs
        {
            Sft = StageSupport.StoreFile(context, sftPath),
            Preferences = StageSupport.StoreFile(context, pairsPath),
            SftKept = s.SftKept,
            PairsKept = s.PairsKept,
        });
    }
}
