using System.Globalization;
using PostTrain.Model.Checkpoints;
using PostTrain.Model.Diagnostics;
using PostTrain.Model.Prompts;
using PostTrain.Model.Tokenization;
using PostTrain.Engine.Store;

namespace PostTrain.Workflows.Activities.Stages;

[Activity("LayerSimilarity", Category = "Evaluation",
    Description = "Layer-wise diagnostics of a checkpoint (MiniCPM, Yi): each decoder block's mean cosine similarity between its input and output hidden states on held-out conversations; a block near 1 changes little. Recorded as metrics diag/layer_cosine/<block>.")]
public sealed class LayerSimilarityActivity : Activity<LayerSimilarityActivity.Inputs, LayerSimilarityActivity.Outputs>
{
    public sealed class Inputs
    {
        [Input("The checkpoint to measure", Required = true)] public ArtifactRef Checkpoint { get; init; }
        [Input("Task set: its held-out tasks with their reference answers are the conversations", Required = true)] public ArtifactRef Tasks { get; init; }
        [Input("Held-out conversations measured at most", Min = 1, Max = 4096)] public int Examples { get; init; } = 64;
    }

    public sealed class Outputs
    {
        [Output("Mean cos(h_in, h_out) of each block, in layer order")] public double[] Cosines { get; init; } = [];
    }


    public override Task<Outputs> ExecuteAsync(Inputs input, ActivityContext context)
    {
        var tasks = TaskSet.Read(StageSupport.PathOf(context, input.Tasks, "task set"));
        if (tasks.HeldOut.Count == 0) throw new ArgumentException($"task set {input.Tasks} has no held-out tasks");
        var dir = StageSupport.PathOf(context, input.Checkpoint, "checkpoint");
        var loaded = Checkpoint.Load(dir, StageSupport.Device(context));
        using var model = loaded.Model;
        var tokenizer = loaded.Tokenizer ?? throw new InvalidDataException($"{dir}: checkpoint has no tokenizer files; cannot encode conversations");
        var conversations = tasks.HeldOut.Take(input.Examples).Select(t => (PretrainCorpus.PromptFor(t), t.Answer)).ToList();
        var cosines = LayerSimilarity.OnConversations(model, new ChatTemplate(tokenizer), conversations);
        for (var i = 0; i < cosines.Length; i++) context.RecordMetric(MetricKeys.Diagnostics.LayerCosineOf(i), cosines[i]);
        return Task.FromResult(new Outputs { Cosines = cosines });
    }
}
