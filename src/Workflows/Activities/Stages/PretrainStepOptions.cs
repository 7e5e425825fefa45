using PostTrain.Model.Prompts;
using PostTrain.Pretrain;

namespace PostTrain.Workflows.Activities.Stages;

/// <summary>How a Pretrain step's inputs become the pretrainer's options; shared with FitScalingLaw, whose prediction is for the run that mapping gives.</summary>
public static class PretrainStepOptions
{
    /// <summary>The pretrainer's options for these inputs: 0 or empty inputs keep <see cref="PretrainOptions"/>' defaults.</summary>
    public static PretrainOptions For(PretrainActivity.Inputs input, ActivityContext context, PretrainCorpusOptions recipe)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(context);
        var defaults = new PretrainOptions();
        var steps = input.Steps > 0 ? input.Steps : defaults.Steps;
        return defaults with
        {
            Preset = input.Preset,
            Steps = steps,
            // A short run keeps a tenth of its steps for warmup rather than failing on the default's 40.
            WarmupSteps = Math.Min(defaults.WarmupSteps, steps / 10),
            BatchSize = input.BatchSize > 0 ? input.BatchSize : defaults.BatchSize,
            // The task set's recipe, so the corpus and held-out split are the ones the later stages see.
            Seed = recipe.Seed,
            CorpusSize = recipe.Examples,
            TaskDifficulty = recipe.Difficulty,
            TaskReversedDigits = recipe.ReversedDigits,
            TaskWorkedProducts = recipe.WorkedProducts,
            TaskBalancedKinds = recipe.BalancedKinds,
            Device = context.Device,
            // The step's own work directory survives a crash of this process: a re-run resumes from the last periodic checkpoint.
            OutputDir = Path.Combine(context.Home, "work", "pretrain", context.RunId.ToString("N"), context.StepPath.Replace('/', '_')),
            Resume = true,
            Schedule = input.Schedule.Length > 0 ? input.Schedule : defaults.Schedule,
            DecayFraction = input.DecayFraction > 0 ? input.DecayFraction : defaults.DecayFraction,
            AnnealSftFiles = input.AnnealSft is { } sft ? [StageSupport.PathOf(context, sft, "AnnealSft")] : [],
            AnnealSftUpsample = input.AnnealSftUpsample > 0 ? input.AnnealSftUpsample : defaults.AnnealSftUpsample,
            HiddenSize = input.HiddenSize > 0 ? input.HiddenSize : defaults.HiddenSize,
            Layers = input.Layers > 0 ? input.Layers : defaults.Layers,
        };
    }
}
