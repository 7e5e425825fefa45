using System.Globalization;
using PostTrain.Model.Data;
using PostTrain.Model.Tokenization;

namespace PostTrain.Model.Prompts;

/// <summary>
/// Plays Llama 3's human annotator with a verifier (the built-in <see cref="TaskChecker"/> by default): among N sampled
/// responses, a correct one is preferred over a wrong one. Pairs where both sides are correct (or both wrong) carry no
/// checkable preference and are not made; a verifier that judges nothing (<c>none</c>) makes none.
/// </summary>
public sealed class CheckerAnnotator
{
    /// <param name="maxPairsPerTask">Default 2. More pairs per prompt over-weight easy prompts with many wrong samples.</param>
    /// <param name="systemPrompt">Default null. Must match the prompt the sampler used, since the pair stores the prompt.</param>
    /// <param name="verifier">Default the built-in checker.</param>
    public CheckerAnnotator(int maxPairsPerTask = 2, string? systemPrompt = null, IVerifier? verifier = null)
    {
        Verifier = verifier ?? new CheckerVerifier();
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPairsPerTask, 1);
        MaxPairsPerTask = maxPairsPerTask;
        SystemPrompt = systemPrompt;
    }

    public int MaxPairsPerTask { get; }
    public string? SystemPrompt { get; }
    public IVerifier Verifier { get; }

    public Annotation Annotate(VerifiableTask task, IReadOnlyList<string> responses)
    {
        ArgumentNullException.ThrowIfNull(task);
        ArgumentNullException.ThrowIfNull(responses);
        var verdicts = responses.Select(r => Verifier.Verify(task, r ?? "")).ToArray();
        var correct = verdicts.Select(v => v == true).ToArray();
        var good = responses.Where((_, i) => correct[i]).Distinct(StringComparer.Ordinal).ToList();
        var bad = responses.Where((r, i) => verdicts[i] == false && !string.IsNullOrWhiteSpace(r)).Distinct(StringComparer.Ordinal).ToList();
        var pairs = new List<PreferencePair>();
        if (good.Count > 0 && bad.Count > 0)
        {
            var prompt = PretrainCorpus.PromptFor(task, SystemPrompt);
            // Walking both lists in step uses each response before reusing any; k < max(c, w) never repeats a (c, w) combination.
            var n = Math.Min(MaxPairsPerTask, Math.Max(good.Count, bad.Count));
            for (var k = 0; k < n; k++)
            {
                pairs.Add(new PreferencePair(prompt, good[k % good.Count], bad[k % bad.Count])
                {
                    ScoreChosen = 1,
                    ScoreRejected = 0,
                    Source = new Dictionary<string, string>
                    {
                        ["annotator"] = Verifier.Name,
                        ["task_id"] = task.Id,
                        ["task_kind"] = task.KindName,
                        ["samples"] = responses.Count.ToString(CultureInfo.InvariantCulture),
                    },
                });
            }
        }
        return new Annotation(task, responses, correct, pairs);
    }

    /// <summary>
    /// Annotates every task's samples. Where they show no contrast (all right or all wrong) the annotator edits one
    /// side, as Llama 3's annotators edited responses: the reference answer over a wrong sample, or a right sample over
    /// a near miss (<see cref="NearMiss"/>); an edit is kept only when the verifier agrees with it.
    /// </summary>
    public AnnotationBatch AnnotateAll(IReadOnlyList<VerifiableTask> tasks, IReadOnlyDictionary<string, List<string>> responsesByTask, Random rng)
    {
        ArgumentNullException.ThrowIfNull(tasks);
        ArgumentNullException.ThrowIfNull(responsesByTask);
        ArgumentNullException.ThrowIfNull(rng);
        var pairs = new List<PreferencePair>();
        int correct = 0, total = 0, edited = 0;
        foreach (var task in tasks)
        {
            var responses = responsesByTask.GetValueOrDefault(task.Id) ?? [];
            var annotation = Annotate(task, responses);
            correct += annotation.CorrectCount;
            total += responses.Count;
            if (annotation.Pairs.Count > 0)
            {
                pairs.AddRange(annotation.Pairs);
                continue;
            }
            var (chosen, rejected) = annotation.CorrectCount > 0
                ? (annotation.CorrectResponses[0], NearMiss.Of(task, rng))
                : (task.Answer, responses.FirstOrDefault(r => !string.IsNullOrWhiteSpace(r)) ?? NearMiss.Of(task, rng));
            if (chosen == rejected || Verifier.Verify(task, chosen) != true || Verifier.Verify(task, rejected) != false) continue;
            edited++;
            pairs.Add(new PreferencePair(PretrainCorpus.PromptFor(task, SystemPrompt), chosen, rejected)
            {
                ScoreChosen = 1,
                ScoreRejected = 0,
                Source = new Dictionary<string, string> { ["annotator"] = $"{Verifier.Name}-edit", ["task_id"] = task.Id, ["task_kind"] = task.KindName },
            });
        }
        return new AnnotationBatch(pairs, correct, total, edited);
    }
}
