using PostTrain.Engine.Activities;

namespace PostTrain.Engine.Tests.Activities;

[Activity("Sum", Category = "Test", Description = "Sums a list of numbers (a join over a forEach).")]
public sealed class SumActivity : Activity<SumActivity.Inputs, SumActivity.Outputs>
{
    public sealed class Inputs
    {
        [Input("Numbers to add", Required = true)] public double[] Values { get; init; } = [];
    }

    public sealed class Outputs
    {
        [Output("Total")] public double Total { get; init; }
        [Output("How many values")] public int Count { get; init; }
    }

    public override Task<Outputs> ExecuteAsync(Inputs input, ActivityContext context)
    {
        context.RecordMetric("count", input.Values.Length);
        return Task.FromResult(new Outputs { Total = input.Values.Sum(), Count = input.Values.Length });
    }
}
