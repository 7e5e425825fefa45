using PostTrain.Model.Checkpoints;
using PostTrain.Model.Data;
using PostTrain.Model.Tokenization;
using PostTrain.RewardModel;
using PostTrain.Trainers.Sft;
using PostTrain.Engine.Store;
using RM = PostTrain.RewardModel.RewardModel;

namespace PostTrain.Workflows.Activities.Stages;

[Activity("TrainRewardModel", Category = "Training", Pool = "gpu", Description = "Trains a reward model (the policy backbone plus a scalar head, plus by default λ·log π(response) from the backbone's own LM) on preference pairs with the Bradley–Terry loss; margin (Llama 2) and reward centering are optional, off by default as in Llama 3. Edited > chosen > rejected rankings become all ordered pairs. Given reference answers, the backbone learns them first.")]
public sealed class TrainRewardModelActivity : Activity<TrainRewardModelActivity.Inputs, TrainRewardModelActivity.Outputs>
{
    public sealed class Inputs
    {
        private static readonly RewardModelOptions Defaults = new();
        [Input("Policy checkpoint the reward model starts from", Required = true)] public ArtifactRef Base { get; init; }
        [Input("Preference pairs (JSONL)", Required = true)] public ArtifactRef Preferences { get; init; }
        [Input("More preference datasets, e.g. imported human data")] public ArtifactRef[] Extra { get; init; } = [];
        [Input("Reference answers (SFT JSONL, e.g. AnnotatePreferences' references) the backbone learns before the pairs; none or empty = start from the base as it is")] public ArtifactRef? References { get; init; }
        [Input("Passes over the reference answers", Min = 1)] public int ReferenceEpochs { get; init; } = 1;
        [Input("Peak learning rate on the reference answers")] public double ReferenceLearningRate { get; init; } = 1e-3;
        [Option(typeof(RewardModelOptions))] public int Epochs { get; init; } = Defaults.Epochs;
        [Option(typeof(RewardModelOptions))] public double LearningRate { get; init; } = Defaults.LearningRate;
        [Input("λ in r = score(h_last) + λ·log π(response | prompt) with the backbone's own LM; 0 = the head alone (Llama 2 and 3). The likelihood lets the RM start from what the policy can already work out")] public double LikelihoodWeight { get; init; } = 1.0;
        [Option(typeof(RewardModelOptions))] public int BatchSize { get; init; } = Defaults.BatchSize;
        [Option(typeof(RewardModelOptions))] public bool UseMargin { get; init; } = Defaults.UseMargin;
        [Option(typeof(RewardModelOptions), nameof(RewardModelOptions.CenteringCoefficient))] public double Centering { get; init; } = Defaults.CenteringCoefficient;
        [Option(typeof(RewardModelOptions))] public double LanguageModelingWeight { get; init; } = Defaults.LanguageModelingWeight;
        [Input("Fraction of prompts whose pairs are held out for accuracy", Min = 0, Max = 0.99)] public double HeldOutFraction { get; init; } = 0.1;
        [Input("The user's own reward model to use instead of training one: a Hugging Face LlamaForSequenceClassification directory, sha256:… or a model name; it is only scored on the held-out pairs")] public string Given { get; init; } = "";
    }

    public sealed class Outputs
    {
        [Output("Reward model checkpoint")] public ArtifactRef Checkpoint { get; init; }
        [Output("Held-out pairwise accuracy")] public double Accuracy { get; init; }
        [Output("Mean held-out reward margin r_c − r_r")] public double Margin { get; init; }
    }

    public override Task<Outputs> ExecuteAsync(Inputs input, ActivityContext context)
    {
        var basePath = StageSupport.PathOf(context, input.Base, "base policy");
        var pairs = input.Extra.Prepend(input.Preferences).SelectMany((a, i) => PreferenceDataset.Read(StageSupport.PathOf(context, a, i == 0 ? "preferences" : "extra preferences"))).ToList();
        if (pairs.Count < 2) throw new ArgumentException($"preferences {input.Preferences}: {pairs.Count} pairs, expected at least 2 to train and hold out");
        var references = input.References is { } refs ? SftDataset.Read(StageSupport.PathOf(context, refs, "reference answers")) : [];
        if (references.Count > 0 && !(input.ReferenceLearningRate > 0)) throw new ArgumentOutOfRangeException(nameof(input), $"ReferenceLearningRate is {input.ReferenceLearningRate}, expected > 0");
        if (!string.IsNullOrWhiteSpace(input.Given)) return Task.FromResult(UseGiven(input.Given, pairs, input.HeldOutFraction, context));
        var seed = StageSupport.Seed(context);
        using var model = RM.FromPolicy(basePath, StageSupport.Device(context), seed, input.LikelihoodWeight);
        var tokenizer = model.Tokenizer ?? throw new InvalidDataException($"{basePath}: the base checkpoint has no tokenizer; the reward model needs one to template pairs");
        // The head is already drawn; the reference pass trains only the backbone it reads.
        var learned = references.Count == 0 ? null
            : ReferenceAnswers.Learn(model.Backbone, tokenizer, references, input.ReferenceEpochs, input.ReferenceLearningRate, seed, context.Progress, context.CancellationToken);
        var template = new ChatTemplate(tokenizer);
        var (trainPairs, heldOutPairs) = PreferenceSplit.ByPrompt(pairs, input.HeldOutFraction);
        var (train, heldOut) = (PreferenceComparisons.Build(trainPairs, template), PreferenceComparisons.Build(heldOutPairs, template));
        var options = new RewardModelOptions { Epochs = input.Epochs, LearningRate = input.LearningRate, BatchSize = input.BatchSize, UseMargin = input.UseMargin, CenteringCoefficient = input.Centering, LanguageModelingWeight = input.LanguageModelingWeight, Seed = seed };
        var metrics = new RewardModelTrainer(model, options).Train(train, heldOut, context.Progress, context.CancellationToken);
        var metadata = new Dictionary<string, string> { ["base_checkpoint"] = Checkpoint.ComputeHash(basePath), ["pairs"] = $"{pairs.Count}", ["reference_answers"] = $"{references.Count}" };
        var checkpoint = context.Artifacts.PutDirectory(dir => model.Save(dir, metadata));
        context.RegisterCheckpoint(checkpoint, "reward_model", parent: input.Base, name: "reward model");
        foreach (var (name, value) in metrics.ToDictionary().Where(m => double.IsFinite(m.Value))) context.RecordMetric(MetricKeys.RewardModel.Prefix + name, value);
        foreach (var (name, count) in new[] { (MetricKeys.RewardModel.HeldOutPairs, heldOut.Count), (MetricKeys.RewardModel.ReferenceAnswers, references.Count) }) context.RecordMetric(name, count);
        if (learned is not null) context.RecordMetric(MetricKeys.RewardModel.ReferenceLoss, learned.TrainLoss);
        foreach (var (kind, evaluation) in AccuracyByKind.Evaluate(model, heldOutPairs, template)) context.RecordMetric(MetricKeys.RewardModel.HeldOutAccuracyOf(kind), evaluation.Accuracy);
        return Task.FromResult(new Outputs { Checkpoint = checkpoint, Accuracy = metrics.HeldOutAccuracy, Margin = metrics.MeanMargin });
    }

    /// <summary>Passes a given reward model through, with its accuracy on the same held-out pairs a trained one is scored on.</summary>
    private static Outputs UseGiven(string given, IReadOnlyList<PreferencePair> pairs, double heldOutFraction, ActivityContext context)
    {
        var checkpoint = new Models.ModelCatalog(context.Home, context.Artifacts).Resolve(given, "reward model", Models.ModelCatalog.RewardModelRole);
        using var model = RM.Load(context.Artifacts.PathOf(checkpoint), StageSupport.Device(context));
        var (evaluation, heldOut) = GivenRewardModel.Evaluate(model, pairs, heldOutFraction, given);
        context.RegisterCheckpoint(checkpoint, "reward_model", name: "given reward model");
        foreach (var (name, value) in new[] { (MetricKeys.RewardModel.HeldOutAccuracy, evaluation.Accuracy), (MetricKeys.RewardModel.HeldOutPairs, heldOut) }) context.RecordMetric(name, value);
        return new Outputs { Checkpoint = checkpoint, Accuracy = evaluation.Accuracy, Margin = evaluation.MeanMargin };
    }
}
