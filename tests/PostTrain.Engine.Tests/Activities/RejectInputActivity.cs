using PostTrain.Engine.Activities;

namespace PostTrain.Engine.Tests.Activities;

[Activity("Sqrt", Category = "Test", Description = "Square root; a negative input is an ArgumentException (bad inputs).")]
public sealed class RejectInputActivity : Activity<RejectInputActivity.Inputs, RejectInputActivity.Outputs>
{
    public sealed class Inputs
    {
        [Input("A non-negative number", Required = true)] public double X { get; init; }
    }

    public sealed class Outputs
    {
        [Output("sqrt(x)")] public double Root { get; init; }
    }

    public override Task<Outputs> ExecuteAsync(Inputs input, ActivityContext context) =>
        input.X < 0
            ? throw new ArgumentOutOfRangeException(nameof(input), input.X, "x must be >= 0")
            : Task.FromResult(new Outputs { Root = Math.Sqrt(input.X) });
}
