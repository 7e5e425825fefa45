using PostTrain.Workflows.Activities;

namespace PostTrain.Studio.Tests.Activities;

/// <summary>
/// Records metric keys shaped like the real stages' (and like metrics other stages may add later), so the monitor's
/// grouping by meaning is tested on key structure rather than on today's names: a candidate qualified by a content
/// hash that changes every round, kinds under a recorded parent, kinds under a measure namespace, numbered kinds
/// with no parent, a new accuracy, and a count.
/// </summary>
[Activity("ReportMetrics", Category = "Test", Description = "Records metrics shaped like a round's.")]
public sealed class ReportMetricsActivity : Activity<ReportMetricsActivity.Inputs, ReportMetricsActivity.Outputs>
{
    public sealed class Inputs
    {
        [Input("Scales every value")] public double Scale { get; init; } = 1;
    }

    public sealed class Outputs
    {
        [Output("Metrics recorded")] public int Count { get; init; }
    }

    public override Task<Outputs> ExecuteAsync(Inputs input, ActivityContext context)
    {
        var r = context.Round ?? 0;
        var hash = Convert.ToHexStringLower(BitConverter.GetBytes(0x5eed0000 + r * 7919))[..8];
        var metrics = new Dictionary<string, double>
        {
            ["select/exact_match"] = 0.20 + 0.05 * r,
            ["select/exact_match/Sorting"] = 0.6 + 0.1 * r,
            ["select/exact_match/Addition"] = 0.1 + 0.02 * r,
            [$"eval/c0-{hash}/exact_match"] = 0.19 + 0.05 * r,
            [$"eval/c0-{hash}/exact_match/Sorting"] = 0.55 + 0.1 * r,
            [$"eval/c0-{hash}/exact_match/Addition"] = 0.08 + 0.02 * r,
            ["eval/fewshot_accuracy"] = 0.3 + 0.01 * r,
            ["dpo/loss"] = 0.69 - 0.05 * r,
            ["sft/train/loss"] = 1.2 - 0.1 * r,
            ["dpo/rewards/chosen"] = 0.1 * r,
            ["dpo/rewards/margins"] = 0.2 * r,
            ["sample/tokens_per_second"] = 900 + 10 * r,
            ["diag/layer_similarity/0"] = 0.91,
            ["diag/layer_similarity/1"] = 0.95 + 0.01 * r,
            ["diag/layer_similarity/2"] = 0.97,
            ["reject/pairs_kept"] = 1000 + r,
        };
        foreach (var (name, value) in metrics) context.RecordMetric(name, value * input.Scale);
        return Task.FromResult(new Outputs { Count = metrics.Count });
    }
}
