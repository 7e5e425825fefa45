using System.Globalization;
using PostTrain.Model.Tokenization;

namespace PostTrain.Model.Data;

/// <summary>
/// Plays Llama 3's human annotator with <see cref="TaskChecker"/>: among N sampled responses, a correct one is
/// preferred over a wrong one. Pairs where both sides are correct (or both wrong) carry no checkable preference
/// and are not made.
/// </summary>
public sealed class CheckerAnnotator
{
    /// <param name="maxPairsPerTask">Default 2. More pairs per prompt over-weight easy prompts with many wrong samples.</param>
    /// <param name="systemPrompt">Default null. Must match the prompt the sampler used, since the pair stores the prompt.</param>
    public CheckerAnnotator(int maxPairsPerTask = 2, string? systemPrompt = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPairsPerTask, 1);
        MaxPairsPerTask = maxPairsPerTask;
        SystemPrompt = systemPrompt;
    }

    public int MaxPairsPerTask { get; }
    public string? SystemPrompt { get; }

    public Annotation Annotate(VerifiableTask task, IReadOnlyList<string> responses)
    {
        ArgumentNullException.ThrowIfNull(task);
        ArgumentNullException.ThrowIfNull(responses);
        var correct = responses.Select(r => TaskChecker.IsCorrect(task, r ?? "")).ToArray();
        var good = responses.Where((_, i) => correct[i]).Distinct(StringComparer.Ordinal).ToList();
        var bad = responses.Where((r, i) => !correct[i] && !string.IsNullOrWhiteSpace(r)).Distinct(StringComparer.Ordinal).ToList();
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
                        ["annotator"] = "checker",
                        ["task_id"] = task.Id,
                        ["task_kind"] = task.Kind.ToString(),
                        ["samples"] = responses.Count.ToString(CultureInfo.InvariantCulture),
                    },
                });
            }
        }
        return new Annotation(task, responses, correct, pairs);
    }
}
