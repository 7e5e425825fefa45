using PostTrain.Engine.Activities;

namespace PostTrain.Engine.Tests.Activities;

[Activity("Fault", Category = "Test", Description = "Throws the named exception on its first N attempts, records a metric, then returns its attempt.")]
public sealed class FaultActivity : Activity<FaultActivity.Inputs, FaultActivity.Outputs>
{
    public sealed class Inputs
    {
        [Input("format | io | none")] public string Kind { get; init; } = "none";
        [Input("Attempts that throw")] public int Failures { get; init; } = 1;
        [Input("Metric value recorded on success (may be NaN)")] public string Metric { get; init; } = "0";
        [Input("A bounded number", Min = 0, Max = 10)] public double Bounded { get; init; } = 1;
    }

    public sealed class Outputs
    {
        [Output("Attempt that succeeded")] public int Attempt { get; init; }
    }

    public override Task<Outputs> ExecuteAsync(Inputs input, ActivityContext context)
    {
        if (context.Attempt <= input.Failures)
        {
            Exception error = input.Kind switch
            {
                "format" => new FormatException($"'{input.Kind}' is no number (attempt {context.Attempt})"),
                "io" => new IOException($"disk hiccup (attempt {context.Attempt})"),
                _ => null!,
            };
            if (error is not null) throw error;
        }
        context.RecordMetric("loss", double.Parse(input.Metric, System.Globalization.CultureInfo.InvariantCulture));
        return Task.FromResult(new Outputs { Attempt = context.Attempt });
    }
}
