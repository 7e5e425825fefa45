using PostTrain.Model.Prompts;
using PostTrain.Sampling;
using PostTrain.Trainers.Evaluation;
using TorchSharp;

namespace PostTrain.Workflows.Activities.Stages;

/// <summary>Evaluate's k-shot figures: the same held-out tasks with k solved tasks of their kind before each
/// (shots from the task set's annotation, reference and sampling tasks), answered greedily and memoised apart from
/// the zero-shot answers. The SFT model, evaluated for the record only, is left out.</summary>
internal static class FewShotEvaluation
{
    public static SelectionResult Add(SelectionResult selection, TaskSet tasks, string tasksHash, IReadOnlyList<VerifiableTask> heldOut, IVerifier verifier, int shots,
        IReadOnlyDictionary<string, string> hashOf, ActivityContext context, int maxPrompts, int maxNewTokens, torch.Device device)
    {
        var prompts = FewShotPrompts.Build(heldOut, tasks.Annotation.Concat(tasks.References).Concat(tasks.Sampling), shots, verifier);
        var memo = new EvaluationMemo(context.Home, $"{tasksHash}|{maxPrompts}|{maxNewTokens}|{context.Device}|{shots}-shot");
        var evaluator = new Evaluator(new EvaluationOptions(),
            (dir, messages) => memo.Responses(hashOf[dir], () => GreedyResponses.Generate(dir, messages, maxNewTokens, device, seed: 0)),
            (_, _) => throw new InvalidOperationException("k-shot evaluation grades by the verifier only; the reward model is not asked"));
        var result = evaluator.WithFewShot(selection, prompts, shots, new HashSet<string>(StringComparer.Ordinal) { EvaluateActivity.SftName });
        if (result.BaselineFewShotExactMatch is { } baseline) context.RecordMetric(MetricKeys.Evaluate.BaselineExactMatchFewShot, baseline);
        foreach (var e in result.Ranking)
            if (e.FewShotExactMatch is { } em) context.RecordMetric(MetricKeys.Evaluate.ExactMatchFewShot(e.Name), em);
        context.RecordMetric(MetricKeys.Evaluate.FewShots, shots);
        return result;
    }
}
