using PostTrain.Model.Prompts;
using PostTrain.Pretrain.Scaling;
using PostTrain.Engine.Store;

namespace PostTrain.Workflows.Activities.Stages;

[Activity("FitScalingLaw", Category = "Pretraining",
    Description = "Fits L(N, D) = E + A/N^α + B/D^β (Chinchilla) to a grid of small pretraining runs and predicts the held-out loss of a larger run before it is trained.")]
public sealed class FitScalingLawActivity : Activity<FitScalingLawActivity.Inputs, FitScalingLawActivity.Outputs>
{
    public sealed class Inputs
    {
        [Input("Non-embedding parameters N of each grid run (Pretrain.parameters)", Required = true)] public long[] Parameters { get; init; } = [];
        [Input("Training tokens D of each grid run (Pretrain.tokens)", Required = true)] public long[] Tokens { get; init; } = [];
        [Input("Held-out loss of each grid run (Pretrain.heldOutLoss)", Required = true)] public double[] Losses { get; init; } = [];
        [Input("The larger run's network preset")] public string Preset { get; init; } = "small";
        [Input("The larger run's width; 0 = the preset's", Min = 0)] public int HiddenSize { get; init; }
        [Input("The larger run's decoder blocks; 0 = the preset's", Min = 0)] public int Layers { get; init; }
        [Input("The larger run's optimizer steps; 0 = the pretrainer's default", Min = 0)] public int Steps { get; init; }
        [Input("The larger run's sequences per step; 0 = the pretrainer's default", Min = 0)] public int BatchSize { get; init; }
    }

    public sealed class Outputs
    {
        [Output("The fit and the prediction (JSON)")] public ArtifactRef Prediction { get; init; }
        [Output("Predicted held-out loss of the larger run (nats/token)")] public double PredictedLoss { get; init; }
        [Output("Irreducible loss E")] public double E { get; init; }
        [Output("Parameter exponent α")] public double Alpha { get; init; }
        [Output("Data exponent β")] public double Beta { get; init; }
    }

    public override Task<Outputs> ExecuteAsync(Inputs input, ActivityContext context)
    {
        if (input.Parameters.Length != input.Losses.Length || input.Tokens.Length != input.Losses.Length)
            throw new ArgumentException($"parameters ({input.Parameters.Length}), tokens ({input.Tokens.Length}) and losses ({input.Losses.Length}) must list the same runs");
        var runs = input.Losses.Select((loss, i) => new ScalingObservation(input.Parameters[i], input.Tokens[i], loss)).ToList();
        var fit = ScalingLawFitter.Fit(runs);
        // The larger run's N and D from the same mapping its Pretrain step uses, so the prediction is for that run.
        var target = PretrainStepOptions.For(new PretrainActivity.Inputs { Preset = input.Preset, HiddenSize = input.HiddenSize, Layers = input.Layers, Steps = input.Steps, BatchSize = input.BatchSize },
            context, new PretrainCorpusOptions());
        var (n, d) = ScaledPreset.SizeOf(target);
        var prediction = new ScalingLawPrediction(fit, n, d);
        var law = fit.Law;
        foreach (var (name, value) in new[] { ("e", law.E), ("a", law.A), ("alpha", law.Alpha), ("b", law.B), ("beta", law.Beta), ("rms_log_residual", fit.RmsLogResidual), ("predicted_loss", prediction.PredictedLoss) })
            context.RecordMetric(MetricKeys.Scaling.Prefix + name, value);
        return Task.FromResult(new Outputs
        {
            Prediction = context.Artifacts.PutText(prediction.ToJson()),
            PredictedLoss = prediction.PredictedLoss, E = law.E, Alpha = law.Alpha, Beta = law.Beta,
        });
    }
}
