using PostTrain.Engine.Activities;

namespace PostTrain.Engine.Tests.Activities;

[Activity("Add", Category = "Test", Description = "Adds two numbers.")]
public sealed class AddActivity : Activity<AddActivity.Inputs, AddActivity.Outputs>
{
    public sealed class Inputs
    {
        [Input("First addend", Required = true)] public double X { get; init; }
        [Input("Second addend")] public double Y { get; init; } = 0;
    }

    public sealed class Outputs
    {
        [Output("x + y")] public double Sum { get; init; }
    }

    public override Task<Outputs> ExecuteAsync(Inputs input, ActivityContext context) =>
        Task.FromResult(new Outputs { Sum = input.X + input.Y });
}
