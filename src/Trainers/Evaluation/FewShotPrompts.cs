using System.Security.Cryptography;
using System.Text;
using PostTrain.Model.Data;
using PostTrain.Model.Prompts;
using PostTrain.Model.Tokenization;

namespace PostTrain.Trainers.Evaluation;

/// <summary>
/// k-shot prompts (Brown et al. 2020): before each held-out task, k solved tasks of the same kind as earlier user and
/// assistant turns, so the model sees the answer format it is graded on. The shots come from a pool of tasks with
/// reference answers that are not held out (annotation, reference and sampling tasks), chosen by a hash of the held-out
/// task's id: the same prompt every run, different shots for different tasks, never the task itself.
/// </summary>
public static class FewShotPrompts
{
    /// <param name="targets">The held-out tasks to ask.</param>
    /// <param name="pool">Solved tasks to draw shots from; tasks without an answer or sharing a target's prompt are skipped.</param>
    /// <param name="shots">k ≥ 1; a kind with fewer solved tasks in the pool gets as many as it has.</param>
    /// <param name="systemPrompt">The round's system prompt, once at the start; null = none.</param>
    public static IReadOnlyList<EvalPrompt> Build(IReadOnlyList<VerifiableTask> targets, IEnumerable<VerifiableTask> pool, int shots,
        IVerifier? verifier = null, string? systemPrompt = null)
    {
        ArgumentNullException.ThrowIfNull(targets);
        ArgumentNullException.ThrowIfNull(pool);
        ArgumentOutOfRangeException.ThrowIfLessThan(shots, 1);
        var heldOut = targets.Select(t => t.Prompt).ToHashSet(StringComparer.Ordinal);
        var byKind = pool.Where(t => t.Answer.Length > 0 && !heldOut.Contains(t.Prompt))
            .DistinctBy(t => t.Prompt)
            .GroupBy(t => t.KindName).ToDictionary(g => g.Key, g => g.OrderBy(t => t.Id, StringComparer.Ordinal).ToList());
        return targets.Select(target =>
        {
            var messages = new List<ChatMessage>();
            if (systemPrompt is not null) messages.Add(ChatMessage.System(systemPrompt));
            foreach (var shot in Choose(byKind.GetValueOrDefault(target.KindName) ?? [], target.Id, shots))
            {
                messages.AddRange(Turns(shot));
                messages.Add(ChatMessage.Assistant(shot.Answer));
            }
            messages.AddRange(Turns(target));
            return new EvalPrompt(messages, target, verifier);
        }).ToList();
    }

    /// <summary>The task's own turns without a system turn (one system turn leads the whole k-shot conversation).</summary>
    private static IEnumerable<ChatMessage> Turns(VerifiableTask task) =>
        PretrainCorpus.PromptFor(task).Where(m => m.Role != ChatTemplate.SystemRole);

    /// <summary>k distinct tasks of the candidates, from a start and stride derived from the target's id.</summary>
    private static IEnumerable<VerifiableTask> Choose(IReadOnlyList<VerifiableTask> candidates, string targetId, int k)
    {
        if (candidates.Count == 0) yield break;
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(targetId));
        var start = (int)(BitConverter.ToUInt32(hash, 0) % (uint)candidates.Count);
        for (var i = 0; i < Math.Min(k, candidates.Count); i++)
            yield return candidates[(start + i) % candidates.Count];
    }
}
