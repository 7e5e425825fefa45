using PostTrain.Core.Progress;

namespace PostTrain.Engine.Activities.Builtin;

/// <summary>Waits, reporting progress: a smoke test for pools, heartbeats, cancel and resume without ML work.</summary>
[Activity("Delay", Category = "Utility", Description = "Wait for a while, reporting progress each second (checks workers, heartbeats and cancel).")]
public sealed class DelayActivity : Activity<DelayActivity.Inputs, DelayActivity.Outputs>
{
    public sealed class Inputs
    {
        [Input("Seconds to wait (at most a day)", Min = 0, Max = 86_400)] public double Seconds { get; init; } = 1;
        [Input("Passed through to the output")] public string Value { get; init; } = "";
    }

    public sealed class Outputs
    {
        [Output("The input value")] public string Value { get; init; } = "";
    }

    public override async Task<Outputs> ExecuteAsync(Inputs input, ActivityContext context)
    {
        var total = Math.Max(1, (int)Math.Ceiling(input.Seconds));
        for (var i = 0; i < total; i++)
        {
            await Task.Delay(TimeSpan.FromSeconds(input.Seconds / total), context.CancellationToken).ConfigureAwait(false);
            context.Progress.Report(new StageProgress("delay", i + 1, total, "s", new Dictionary<string, double>()));
        }
        return new Outputs { Value = input.Value };
    }
}
