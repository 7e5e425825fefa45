using PostTrain.Core.Progress;
using PostTrain.Engine.Activities;

namespace PostTrain.Engine.Tests.Activities;

[Activity("Sleep", Category = "Test", Description = "Waits, reporting progress, then appends its tag to HOME/executions.log.")]
public sealed class SleepActivity : Activity<SleepActivity.Inputs, SleepActivity.Outputs>
{
    private static readonly object FileGate = new();

    public sealed class Inputs
    {
        [Input("Milliseconds to wait")] public int Ms { get; init; } = 10;
        [Input("Tag appended to executions.log when done")] public string Tag { get; init; } = "";
        [Input("Value passed through")] public double Value { get; init; }
    }

    public sealed class Outputs
    {
        [Output("The value")] public double Value { get; init; }
        [Output("Start time (ticks)")] public long Started { get; init; }
        [Output("End time (ticks)")] public long Ended { get; init; }
    }

    public override async Task<Outputs> ExecuteAsync(Inputs input, ActivityContext context)
    {
        var started = DateTime.UtcNow.Ticks;
        const int slices = 10;
        for (var i = 0; i < slices; i++)
        {
            await Task.Delay(input.Ms / slices, context.CancellationToken);
            context.Progress.Report(new StageProgress("sleep", i + 1, slices, "slice", new Dictionary<string, double>()));
        }
        if (input.Tag.Length > 0)
            lock (FileGate) File.AppendAllText(Path.Combine(context.Home, "executions.log"), input.Tag + "\n");
        return new Outputs { Value = input.Value, Started = started, Ended = DateTime.UtcNow.Ticks };
    }
}
