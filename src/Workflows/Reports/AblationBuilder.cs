using PostTrain.Engine.Store;
using PostTrain.Model.Prompts;

namespace PostTrain.Workflows.Reports;

/// <summary>
/// Builds the <see cref="AblationComparison"/> of two finished runs on the built-in tasks: the base and the last round of
/// the loop, and the final policy of a run that spent its post-training work in fewer rounds (e.g. <c>iterate --rounds 1
/// -p prompts=12288</c>: the six rounds' prompts, samples, SFT and DPO in one round), answering the same fresh held-out
/// prompts greedily.
/// </summary>
public static class AblationBuilder
{
    /// <summary>The activities that spend post-training work (pretraining, annotation and the reward model are shared).</summary>
    private static readonly HashSet<string> PostTraining = new(StringComparer.Ordinal)
        { "Sample", "ScoreAndReject", "Sft", "PrepareDpo", "Dpo", "AverageCheckpoints", "Evaluate", "SelectBest" };

    public sealed record RunData(RunRecord Run, IReadOnlyList<StepRecord> Steps, IReadOnlyList<MetricRecord> Metrics, ArtifactStore Artifacts);

    /// <param name="maxPrompts">Fresh held-out prompts; 0 = as many as the loop's held-out set.</param>
    public static AblationComparison Build(RunData loop, RunData ablation, string device = "cpu", int maxPrompts = 0, IProgress<string>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(loop);
        ArgumentNullException.ThrowIfNull(ablation);
        var set = TaskSet.Read(loop.Artifacts.PathOf(ArtifactRef.Parse(RunReportBuilder.Output(Done(loop, "GenerateTaskData"), "tasks"))));
        var other = TaskSet.Read(ablation.Artifacts.PathOf(ArtifactRef.Parse(RunReportBuilder.Output(Done(ablation, "GenerateTaskData"), "tasks"))));
        if (!set.IsBuiltIn || !other.IsBuiltIn)
            throw new InvalidOperationException("an ablation compares runs on the built-in tasks, whose fresh held-out prompts neither run has seen");
        if (set.Options with { Examples = 0, SamplingPrompts = 0 } != other.Options with { Examples = 0, SamplingPrompts = 0 })
            throw new InvalidOperationException($"run {ablation.Run.Id}: its tasks differ from run {loop.Run.Id}'s in seed, difficulty, held-out set or answer format; an ablation needs the same held-out prompts");
        var rounds = RunReportBuilder.Rounds(loop.Steps, loop.Metrics);
        var theirs = RunReportBuilder.Rounds(ablation.Steps, ablation.Metrics);
        if (rounds.Count < 2 || theirs.Count < 2)
            throw new InvalidOperationException($"run {(rounds.Count < 2 ? loop.Run.Id : ablation.Run.Id)} has no finished round");
        var tasks = set.FreshHeldOut(maxPrompts > 0 ? maxPrompts : set.HeldOut.Count);
        var messages = tasks.Select(t => PretrainCorpus.PromptFor(t)).ToList();
        var verifier = set.CreateVerifier();
        var torchDevice = Model.Training.DeviceOptions.Parse(device);
        bool[] Answer(ArtifactStore store, string checkpoint, string name)
        {
            progress?.Report($"ablation: answering {tasks.Count} fresh held-out prompts with {name}");
            var responses = PostTrain.Sampling.GreedyResponses.Generate(store.PathOf(ArtifactRef.Parse(checkpoint)), messages, PostTrain.Sampling.GreedyResponses.EvaluationMaxNewTokens, torchDevice, 0);
            return tasks.Select((t, i) => verifier.Verify(t, responses[i]) == true).ToArray();
        }
        var baseRight = Answer(loop.Artifacts, rounds[0].Checkpoint, "the base");
        var loopRight = Answer(loop.Artifacts, rounds[^1].Checkpoint, rounds[^1].Name);
        var ablationRight = Answer(ablation.Artifacts, theirs[^1].Checkpoint, $"run {ablation.Run.Id}");
        AblationRow Row(string name, int count, string checkpoint, bool[] right, RunData? run) => new(name, count, checkpoint, right.Count(r => r), right.Length,
            tasks.Select((t, i) => (t.KindName, right[i])).GroupBy(x => x.KindName).ToDictionary(g => g.Key, g => g.Count(x => x.Item2) / (double)g.Count()),
            run is null ? 0 : Sum(run, "sample/responses"), run is null ? 0 : Sum(run, "reject/sft_kept"), run is null ? 0 : Sum(run, "reject/pairs_kept"),
            run is null ? 0 : run.Steps.Where(s => s is { State: StepState.Done, FromCache: false, StartedAt: not null, FinishedAt: not null } && PostTraining.Contains(s.ActivityType))
                .Sum(s => (s.FinishedAt!.Value - s.StartedAt!.Value).TotalSeconds));
        var rows = new[]
        {
            Row("base", 0, rounds[0].Checkpoint, baseRight, null),
            Row($"{rounds.Count - 1} rounds", rounds.Count - 1, rounds[^1].Checkpoint, loopRight, loop),
            Row($"{theirs.Count - 1} round{(theirs.Count == 2 ? "" : "s")}, the same prompts and samples", theirs.Count - 1, theirs[^1].Checkpoint, ablationRight, ablation),
        };
        var onlyLoop = loopRight.Where((r, i) => r && !ablationRight[i]).Count();
        var onlyAblation = ablationRight.Where((r, i) => r && !loopRight[i]).Count();
        return new AblationComparison(ablation.Run.Id.ToString("D"), rows, onlyLoop, onlyAblation);
    }

    private static double Sum(RunData run, string metric)
    {
        var paths = run.Steps.Where(s => s.State == StepState.Done).Select(s => s.Path).ToHashSet(StringComparer.Ordinal);
        // The last value each step recorded (a retried step records again).
        return run.Metrics.Where(m => m.Name == metric && paths.Contains(m.StepPath)).GroupBy(m => m.StepPath).Sum(g => g.Last().Value);
    }

    private static StepRecord Done(RunData run, string activity) =>
        run.Steps.Where(s => s.ActivityType == activity && s.State == StepState.Done).OrderBy(s => s.Path, StringComparer.Ordinal).FirstOrDefault()
        ?? throw new InvalidOperationException($"run {run.Run.Id} ({run.Run.WorkflowId}) has no finished {activity} step");
}
