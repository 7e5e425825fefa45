using System.Text.Json.Nodes;
using PostTrain.Model.Prompts;
using PostTrain.Model.Data;
using PostTrain.Workflows.Activities.Stages;
using PostTrain.Engine.Store;
using RM = PostTrain.RewardModel.RewardModel;

namespace PostTrain.Workflows.Reports;

/// <summary>
/// Builds the <see cref="QualityReport"/> of a finished iterate-style run from its steps, metrics and artifacts:
/// the per-round figures the activities recorded, plus head-to-head comparisons of every round's selected policy
/// (and the base) on the held-out tasks, judged by the reward model and by the exact checker.
/// </summary>
public static class RunReportBuilder
{
    /// <param name="maxPrompts">Held-out prompts used for the head-to-head comparisons; 0 = all.</param>
    public static QualityReport Build(RunRecord run, IReadOnlyList<StepRecord> steps, IReadOnlyList<MetricRecord> metrics,
        ArtifactStore artifacts, string device = "cpu", int maxPrompts = 0, IProgress<string>? progress = null)
    {
        var rounds = Rounds(steps, metrics).ToList();
        if (rounds.Count == 0)
            throw new InvalidOperationException($"run {run.Id} ({run.WorkflowId}) has no finished Pretrain step or no finished SelectBest round; a quality report needs both");
        StepRecord? Single(string activity) => steps.Where(s => s.ActivityType == activity && s.State == StepState.Done).OrderBy(s => s.Path, StringComparer.Ordinal).FirstOrDefault();
        var rm = Single("TrainRewardModel");
        var tasksStep = Single("GenerateTaskData");

        var (rmJudged, checkerJudged, fresh) = tasksStep is not null && rm is not null
            ? HeadToHead(rounds, artifacts, ArtifactRef.Parse(Output(tasksStep, "tasks")), ArtifactRef.Parse(Output(rm, "checkpoint")), device, maxPrompts, progress)
            : ([], [], []);
        if (fresh.Count == rounds.Count)
            rounds = rounds.Select((r, i) => r with { FreshCorrect = fresh[i].Correct, FreshTotal = fresh[i].Total }).ToList();
        var seconds = steps.Where(s => s is { State: StepState.Done, FromCache: false, StartedAt: not null, FinishedAt: not null })
            .GroupBy(s => s.ActivityType)
            .ToDictionary(g => g.Key, g => g.Sum(s => (s.FinishedAt!.Value - s.StartedAt!.Value).TotalSeconds));
        var started = run.StartedAt ?? run.CreatedAt;
        var finished = run.FinishedAt ?? DateTime.UtcNow;
        return new QualityReport(run.Id.ToString("D"), run.WorkflowId, new DateTimeOffset(DateTime.SpecifyKind(finished, DateTimeKind.Utc)),
            finished - started, rounds, rmJudged, checkerJudged, seconds);
    }

    /// <summary>
    /// The base and every round whose SelectBest has finished, from the figures the activities recorded (no model is
    /// loaded): what <c>iterate</c> prints as each round ends, and the rows of the report. Empty before round 1 ends.
    /// </summary>
    public static IReadOnlyList<RoundSummary> Rounds(IReadOnlyList<StepRecord> steps, IReadOnlyList<MetricRecord> metrics)
    {
        double? Metric(StepRecord? step, string name) =>
            step is null ? null : metrics.Where(m => m.StepPath == step.Path && m.Name == name).Select(m => (double?)m.Value).LastOrDefault();
        IReadOnlyDictionary<string, double>? ByKind(StepRecord? step, string prefix)
        {
            if (step is null) return null;
            var found = metrics.Where(m => m.StepPath == step.Path && m.Name.StartsWith(prefix, StringComparison.Ordinal))
                .GroupBy(m => m.Name[prefix.Length..]).ToDictionary(g => g.Key, g => g.Last().Value);
            return found.Count > 0 ? found : null;
        }
        StepRecord? Single(string activity, int? round = null) => steps
            .Where(s => s.ActivityType == activity && s.State == StepState.Done && (round is null || s.Round == round))
            .OrderBy(s => s.Path, StringComparer.Ordinal).FirstOrDefault();

        IReadOnlyList<double>? Cosines(int? round)
        {
            var step = steps.Where(s => s.ActivityType == "LayerSimilarity" && s.State == StepState.Done && s.Round == round)
                .OrderBy(s => s.Path, StringComparer.Ordinal).FirstOrDefault();
            var byBlock = ByKind(step, MetricKeys.Diagnostics.LayerCosine);
            return byBlock?.OrderBy(kv => int.Parse(kv.Key, System.Globalization.CultureInfo.InvariantCulture)).Select(kv => kv.Value).ToList();
        }
        var pretrain = Single("Pretrain");
        var rm = Single("TrainRewardModel");
        var selects = steps.Where(s => s.ActivityType == "SelectBest" && s.State == StepState.Done && s.Round is not null)
            .OrderBy(s => s.Round).ToList();
        if (pretrain is null || selects.Count == 0) return [];
        var rmAccuracy = Metric(rm, MetricKeys.RewardModel.HeldOutAccuracy);

        var rounds = new List<RoundSummary>();
        var first = selects[0];
        var checkedCount = (int)(Metric(first, MetricKeys.Select.Checked) ?? 0);
        rounds.Add(new RoundSummary(0, Output(pretrain, "checkpoint"), (int)(Metric(first, MetricKeys.Select.BaselineCorrect) ?? 0), checkedCount,
            RewardModelAccuracy: rmAccuracy, ExactMatchByKind: ByKind(Single("Evaluate", first.Round), MetricKeys.Evaluate.BaselineExactMatchOf("")),
            FewShotExactMatch: Metric(first, MetricKeys.Select.BaselineExactMatchFewShot), FewShots: (int)(Metric(Single("Evaluate", first.Round), MetricKeys.Evaluate.FewShots) ?? 0),
            LayerCosines: Cosines(null)));
        foreach (var s in selects)
        {
            var r = s.Round!.Value;
            var sft = Single("Sft", r);
            var evaluate = Single("Evaluate", r);
            rounds.Add(new RoundSummary(r + 1, Output(s, "best"), (int)(Metric(s, MetricKeys.Select.Correct) ?? 0), (int)(Metric(s, MetricKeys.Select.Checked) ?? 0),
                RewardModelAccuracy: rmAccuracy,
                WinRateVsPrevious: Metric(s, MetricKeys.Select.WinRate),
                SftLoss: Metric(sft, MetricKeys.Sft.TrainLoss),
                SftExactMatch: Metric(evaluate, MetricKeys.Evaluate.ExactMatch(EvaluateActivity.SftName)),
                DpoRewardAccuracy: Metric(s, MetricKeys.Select.DpoRewardAccuracy),
                DpoRewardMargin: Metric(s, MetricKeys.Select.DpoRewardMargin),
                ExactMatchByKind: ByKind(s, MetricKeys.Select.ExactMatchOf("")),
                FewShotExactMatch: Metric(s, MetricKeys.Select.ExactMatchFewShot), FewShots: (int)(Metric(evaluate, MetricKeys.Evaluate.FewShots) ?? 0),
                LayerCosines: Cosines(r)));
        }
        return rounds;
    }

    internal static string Output(StepRecord step, string name)
    {
        var outputs = JsonNode.Parse(step.OutputsJson ?? "{}") as JsonObject;
        var value = outputs?.FirstOrDefault(kv => string.Equals(kv.Key, name, StringComparison.OrdinalIgnoreCase)).Value;
        return value?.GetValue<string>() ?? throw new InvalidDataException($"step {step.Path} ({step.ActivityType}) has no output '{name}'");
    }

    /// <summary>
    /// Greedy answers of every round's policy to the same fresh held-out prompts (as many as the run's held-out set, or
    /// <paramref name="maxPrompts"/>), compared pairwise; fresh because the run selected its checkpoints on its own
    /// held-out set (the user's prompts have none beyond their held-out rows, so theirs meet there). Also each round's
    /// right answers there, by the task set's verifier.
    /// </summary>
    private static (IReadOnlyList<PairwiseResult> Rm, IReadOnlyList<PairwiseResult> Checker, IReadOnlyList<(int Correct, int Total)> Fresh) HeadToHead(IReadOnlyList<RoundSummary> rounds,
        ArtifactStore artifacts, ArtifactRef tasksRef, ArtifactRef rmRef, string device, int maxPrompts, IProgress<string>? progress)
    {
        var torchDevice = Model.Training.DeviceOptions.Parse(device);
        var set = TaskSet.Read(artifacts.PathOf(tasksRef));
        var verifier = set.CreateVerifier();
        var judges = verifier is not NoVerifier;
        var count = maxPrompts > 0 ? maxPrompts : set.HeldOut.Count;
        // The user's file has no prompts beyond its held-out rows: the rounds meet there, and no fresh accuracy is reported.
        var tasks = set.IsBuiltIn ? set.FreshHeldOut(count) : set.HeldOut.Take(count).ToList();
        var messages = tasks.Select(t => PretrainCorpus.PromptFor(t)).ToList();
        using var rm = RM.Load(artifacts.PathOf(rmRef), torchDevice);
        var answers = new List<(string Name, double[] Scores, bool[] Correct)>();
        var seen = new Dictionary<string, (double[], bool[])>();
        foreach (var r in rounds)
        {
            progress?.Report($"judging {r.Name}");
            if (!seen.TryGetValue(r.Checkpoint, out var judged))
            {
                var responses = PostTrain.Sampling.GreedyResponses.Generate(artifacts.PathOf(ArtifactRef.Parse(r.Checkpoint)), messages, PostTrain.Sampling.GreedyResponses.EvaluationMaxNewTokens, torchDevice, 0);
                var scores = rm.Score(messages.Zip(responses, (m, x) => (m, x)).ToList()).Select(s => (double)s).ToArray();
                var correct = tasks.Select((t, i) => verifier.Verify(t, responses[i]) == true).ToArray();
                seen[r.Checkpoint] = judged = (scores, correct);
            }
            answers.Add((r.Name, judged.Item1, judged.Item2));
        }
        var byRm = new List<PairwiseResult>();
        var byChecker = new List<PairwiseResult>();
        for (var i = 0; i < answers.Count; i++)
            for (var j = i + 1; j < answers.Count; j++)
            {
                var (a, b) = (answers[i], answers[j]);
                double rw = 0, rl = 0, rt = 0, cw = 0, cl = 0, ct = 0;
                for (var k = 0; k < tasks.Count; k++)
                {
                    var d = a.Scores[k] - b.Scores[k];
                    if (Math.Abs(d) < 1e-6) rt++; else if (d > 0) rw++; else rl++;
                    if (a.Correct[k] == b.Correct[k]) ct++; else if (a.Correct[k]) cw++; else cl++;
                }
                byRm.Add(new PairwiseResult(a.Name, b.Name, rw, rl, rt));
                byChecker.Add(new PairwiseResult(a.Name, b.Name, cw, cl, ct));
            }
        return (byRm, judges ? byChecker : [], set.IsBuiltIn ? answers.Select(a => (a.Correct.Count(c => c), a.Correct.Length)).ToList() : []);
    }
}
