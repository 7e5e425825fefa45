using PostTrain.Engine.Activities;

namespace PostTrain.Engine.Tests.Activities;

[Activity("Random", Category = "Test", Description = "Draws numbers from the step's seed.")]
public sealed class RandomActivity : Activity<RandomActivity.Inputs, RandomActivity.Outputs>
{
    public sealed class Inputs
    {
        [Input("How many numbers")] public int Count { get; init; } = 4;
    }

    public sealed class Outputs
    {
        [Output("The numbers")] public int[] Numbers { get; init; } = [];
    }

    public override Task<Outputs> ExecuteAsync(Inputs input, ActivityContext context)
    {
        var rng = new Random((int)(context.Seed % int.MaxValue));
        return Task.FromResult(new Outputs { Numbers = [.. Enumerable.Range(0, input.Count).Select(_ => rng.Next(1_000_000))] });
    }
}
