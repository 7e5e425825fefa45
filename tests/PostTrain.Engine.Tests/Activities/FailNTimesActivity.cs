using PostTrain.Engine.Activities;

namespace PostTrain.Engine.Tests.Activities;

[Activity("FailNTimes", Category = "Test", Description = "Throws on its first N attempts, then returns its value.")]
public sealed class FailNTimesActivity : Activity<FailNTimesActivity.Inputs, FailNTimesActivity.Outputs>
{
    public sealed class Inputs
    {
        [Input("Attempts that throw", Required = true)] public int Failures { get; init; }
        [Input("Value returned on success")] public double Value { get; init; } = 1;
    }

    public sealed class Outputs
    {
        [Output("The value")] public double Value { get; init; }
        [Output("Attempt that succeeded")] public int Attempt { get; init; }
    }

    public override Task<Outputs> ExecuteAsync(Inputs input, ActivityContext context)
    {
        if (context.Attempt <= input.Failures)
            throw new InvalidOperationException($"planned failure {context.Attempt} of {input.Failures}");
        return Task.FromResult(new Outputs { Value = input.Value, Attempt = context.Attempt });
    }
}
