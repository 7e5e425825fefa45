using PostTrain.Engine.Activities;

namespace PostTrain.Engine.Tests.Activities;

[Activity("Concat", Category = "Test", Description = "Joins strings.")]
public sealed class ConcatActivity : Activity<ConcatActivity.Inputs, ConcatActivity.Outputs>
{
    public sealed class Inputs
    {
        [Input("Parts", Required = true)] public string[] Parts { get; init; } = [];
        [Input("Separator")] public string Separator { get; init; } = "";
    }

    public sealed class Outputs
    {
        [Output("Joined text")] public string Text { get; init; } = "";
    }

    public override Task<Outputs> ExecuteAsync(Inputs input, ActivityContext context) =>
        Task.FromResult(new Outputs { Text = string.Join(input.Separator, input.Parts) });
}
