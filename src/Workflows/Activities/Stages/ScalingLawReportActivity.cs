using PostTrain.Pretrain.Scaling;
using PostTrain.Workflows.Reports;
using PostTrain.Engine.Store;

namespace PostTrain.Workflows.Activities.Stages;

[Activity("ScalingLawReport", Category = "Pretraining",
    Description = "Compares a scaling law's prediction with the larger run's measured held-out loss: the prediction error, a Markdown report and charts of loss against N and D with the fitted curves (also written to HOME/runs/RUN/scaling-law/).")]
public sealed class ScalingLawReportActivity : Activity<ScalingLawReportActivity.Inputs, ScalingLawReportActivity.Outputs>
{
    public sealed class Inputs
    {
        [Input("FitScalingLaw's prediction", Required = true)] public ArtifactRef Prediction { get; init; }
        [Input("The larger run's measured held-out loss (Pretrain.heldOutLoss)", Required = true)] public double ActualLoss { get; init; }
        [Input("The larger run's non-embedding parameters (Pretrain.parameters), checked against the prediction's", Required = true)] public long Parameters { get; init; }
        [Input("The larger run's training tokens (Pretrain.tokens), checked against the prediction's", Required = true)] public long Tokens { get; init; }
    }

    public sealed class Outputs
    {
        [Output("report.md, loss-vs-tokens.png, loss-vs-parameters.png")] public ArtifactRef Report { get; init; }
        [Output("Predicted held-out loss")] public double PredictedLoss { get; init; }
        [Output("Measured held-out loss")] public double ActualLoss { get; init; }
        [Output("(predicted − measured) / measured")] public double RelativeError { get; init; }
    }

    public override Task<Outputs> ExecuteAsync(Inputs input, ActivityContext context)
    {
        var path = StageSupport.PathOf(context, input.Prediction, "scaling-law prediction");
        var prediction = ScalingLawPrediction.FromJson(File.ReadAllText(path), path);
        // A prediction compared with another run than the one it was made for would measure nothing.
        if (prediction.TargetParameters != input.Parameters || prediction.TargetTokens != input.Tokens)
            throw new ArgumentException($"the run measured has N = {input.Parameters}, D = {input.Tokens}, but the prediction is for N = {prediction.TargetParameters}, D = {prediction.TargetTokens}; give FitScalingLaw the larger run's preset, width, layers, steps and batch size");
        if (!(input.ActualLoss > 0) || !double.IsFinite(input.ActualLoss))
            throw new ArgumentException($"actualLoss is {input.ActualLoss}, expected a finite loss > 0");
        var error = ScalingLawReportWriter.RelativeError(prediction, input.ActualLoss);
        var report = context.Artifacts.PutDirectory(dir => ScalingLawReportWriter.Write(prediction, input.ActualLoss, dir));
        StageSupport.CopyDirectory(context.Artifacts.PathOf(report), Path.Combine(new PostTrainHome(context.Home).RunsDirectory, context.RunId.ToString("D"), "scaling-law"));
        context.RecordMetric(MetricKeys.Scaling.ActualLoss, input.ActualLoss);
        context.RecordMetric(MetricKeys.Scaling.RelativeError, error);
        return Task.FromResult(new Outputs { Report = report, PredictedLoss = prediction.PredictedLoss, ActualLoss = input.ActualLoss, RelativeError = error });
    }
}
