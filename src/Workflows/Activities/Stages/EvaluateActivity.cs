using PostTrain.Model.Prompts;
using PostTrain.Model.Tokenization;
using PostTrain.Sampling;
using PostTrain.Trainers.Evaluation;
using PostTrain.Engine.Store;
using RM = PostTrain.RewardModel.RewardModel;

namespace PostTrain.Workflows.Activities.Stages;

[Activity("Evaluate", Category = "Evaluation", Pool = "gpu",
    Description = "Evaluates a round's candidate checkpoints on held-out prompts: greedy responses, reward-model win rate against the current sampler (ties count half) and accuracy by the task set's verifier (exact match with the built-in checker; none when the verifier is none), each with a 95% Wilson interval.")]
public sealed class EvaluateActivity : Activity<EvaluateActivity.Inputs, EvaluateActivity.Outputs>
{
    public sealed class Inputs
    {
        [Input("Candidate checkpoints (e.g. DPO variants and their average)", Required = true)] public ArtifactRef[] Candidates { get; init; } = [];
        [Input("The current sampler: the baseline win rates are measured against", Required = true)] public ArtifactRef Sampler { get; init; }
        [Input("Reward model that judges", Required = true)] public ArtifactRef RewardModel { get; init; }
        [Input("Task set: its held-out tasks are the prompts", Required = true)] public ArtifactRef Tasks { get; init; }
        [Input("The round's SFT model, evaluated for the record (base → SFT → DPO) but never selected")] public ArtifactRef? Sft { get; init; }
        [Input("Held-out prompts used at most; 0 = all")] public int MaxPrompts { get; init; }
        [Input("Tokens generated at most per response")] public int MaxNewTokens { get; init; } = GreedyResponses.EvaluationMaxNewTokens;
        [Input("k of a k-shot exact match reported beside the zero-shot one (k solved tasks of the same kind before each prompt); 0 = zero-shot only", Min = 0, Max = 16)] public int FewShot { get; init; }
    }

    public sealed class Outputs
    {
        [Output("Selection report (JSON): every candidate's figures, ranked")] public ArtifactRef Report { get; init; }
        [Output("Exact-match accuracy of the best candidate")] public double? BestExactMatch { get; init; }
    }

    public override Task<Outputs> ExecuteAsync(Inputs input, ActivityContext context)
    {
        if (input.Candidates.Length == 0) throw new ArgumentException("Evaluate needs at least one candidate");
        var device = StageSupport.Device(context);
        var tasks = TaskSet.Read(StageSupport.PathOf(context, input.Tasks, "task set"));
        var heldOut = input.MaxPrompts > 0 ? tasks.HeldOut.Take(input.MaxPrompts).ToList() : tasks.HeldOut.ToList();
        if (heldOut.Count == 0) throw new ArgumentException($"task set {input.Tasks} has no held-out tasks");
        var verifier = tasks.CreateVerifier();
        var prompts = heldOut.Select(t => new EvalPrompt(StageSupport.Prompt(t, null).Messages, t, verifier)).ToList();
        using var rm = RM.Load(StageSupport.PathOf(context, input.RewardModel, "reward model"), device);
        var candidates = input.Candidates.Select((c, i) => new Candidate(Name(c, i), StageSupport.PathOf(context, c, $"candidate {i}"))).ToList();
        if (input.Sft is { } sft) candidates.Add(new Candidate(SftName, StageSupport.PathOf(context, sft, "SFT model")));
        var samplerDir = StageSupport.PathOf(context, input.Sampler, "sampler");
        // A round without pairs hands the SFT model on as every candidate, so one directory may appear more than once.
        var hashOf = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var a in input.Candidates.Concat(input.Sft is { } s ? [s] : []).Append(input.Sampler))
            hashOf.TryAdd(StageSupport.PathOf(context, a, "checkpoint"), a.Hash);
        // Greedy decoding draws no random numbers, so the step's seed is not part of the key (each round's step has its own).
        var memo = new EvaluationMemo(context.Home, $"{input.Tasks.Hash}|{input.MaxPrompts}|{input.MaxNewTokens}|{context.Device}");
        var evaluator = new Evaluator(new EvaluationOptions(),
            (dir, messages) => memo.Responses(hashOf[dir], () => GreedyResponses.Generate(dir, messages, input.MaxNewTokens, device, seed: 0)),
            (messages, responses) => memo.Scores(input.RewardModel.Hash, responses,
                () => rm.Score(messages.Zip(responses, (m, r) => (m, r)).ToList()).Select(x => (double)x).ToList()));
        var selection = evaluator.EvaluateRound(candidates, samplerDir, prompts, progress: context.Progress, cancellationToken: context.CancellationToken);
        if (input.FewShot > 0) selection = FewShotEvaluation.Add(selection, tasks, input.Tasks.Hash, heldOut, verifier, input.FewShot, hashOf, context, input.MaxPrompts, input.MaxNewTokens, device);
        context.RecordMetric(MetricKeys.Evaluate.MemoHits, memo.Hits);
        var baselineCorrect = (int)Math.Round((selection.BaselineExactMatch ?? 0) * prompts.Count);
        if (selection.BaselineExactMatch is { } baseline) context.RecordMetric(MetricKeys.Evaluate.BaselineExactMatch, baseline);
        foreach (var (kind, em) in selection.BaselineExactMatchByKind ?? new Dictionary<string, double>())
            context.RecordMetric(MetricKeys.Evaluate.BaselineExactMatchOf(kind), em);
        context.RecordMetric(MetricKeys.Evaluate.BaselineCorrect, baselineCorrect);
        context.RecordMetric(MetricKeys.Evaluate.Prompts, prompts.Count);
        foreach (var e in selection.Ranking)
        {
            context.RecordMetric(MetricKeys.Evaluate.WinRate(e.Name), e.WinRate);
            if (e.ExactMatch is { } em) context.RecordMetric(MetricKeys.Evaluate.ExactMatch(e.Name), em);
            foreach (var (kind, kem) in e.ExactMatchByKind) context.RecordMetric(MetricKeys.Evaluate.ExactMatchOf(e.Name, kind), kem);
        }
        var report = context.Artifacts.PutText(selection.ToJson());
        return Task.FromResult(new Outputs { Report = report, BestExactMatch = selection.Ranking[0].ExactMatch });
    }

    /// <summary>The SFT model's name in the report; <see cref="SelectBestActivity"/> never picks it.</summary>
    public const string SftName = "sft";

    internal static string Name(ArtifactRef candidate, int index) => $"c{index}-{candidate.Hash[..8]}";
}
