using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using PostTrain.Model.Prompts;
using PostTrain.Model.Data;
using PostTrain.Core.Progress;
using PostTrain.Model.Scoring;

namespace PostTrain.Sampling.Rejection;

/// <summary>
/// Rejection sampling (Llama 2 sec. 3.2.3; Llama 3 sec. 4.2.2): score each prompt's N sampled responses with the reward
/// model, keep the best as an SFT example, and keep best vs worst as a DPO pair when the RM separates them clearly.
/// On verifiable tasks the checker can rank above the RM (<see cref="RejectionOptions.Checker"/>). Every kept example
/// records its provenance: round, sampler checkpoint, RM checkpoint, prompt id, sample indices and scores.
/// </summary>
public sealed class RejectionSampler
{
    public const string StageName = "rejection";

    private readonly IRewardScorer _rewardModel;
    private readonly RejectionOptions _options;
    private readonly ILogger _logger;

    public RejectionSampler(IRewardScorer rewardModel, RejectionOptions options, ILogger? logger = null)
    {
        _rewardModel = rewardModel ?? throw new ArgumentNullException(nameof(rewardModel));
        _options = (options ?? throw new ArgumentNullException(nameof(options))).Validate();
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>
    /// Scores <paramref name="responses"/> (deduplicated per prompt first, so a duplicate costs no forward) and selects.
    /// <paramref name="tasks"/> maps prompt id → verifiable task, used when <see cref="RejectionOptions.Checker"/> is on;
    /// <paramref name="verifier"/> judges them (default the built-in checker; <c>none</c> leaves the RM alone).
    /// </summary>
    public RejectionResult Run(IReadOnlyList<SampledResponse> responses, IReadOnlyDictionary<string, VerifiableTask>? tasks = null,
        IProgress<StageProgress>? progress = null, CancellationToken cancellationToken = default, IVerifier? verifier = null)
    {
        verifier ??= new CheckerVerifier();
        ArgumentNullException.ThrowIfNull(responses);
        var o = _options;
        var (kept, duplicates, unfinished) = Filter(responses, o);
        var correct = kept.Select(r => o.Checker != CheckerMode.Off && tasks is not null && tasks.TryGetValue(r.PromptId, out var task)
            ? verifier.Verify(task, r.Response) : null).ToArray();
        // Under RequireCorrect a verifiable prompt with no correct response yields nothing whatever the rewards say, so the
        // RM never scores it: with a weak early policy that is about half of all responses (their Score stays NaN).
        var dropped = o.Checker == CheckerMode.RequireCorrect
            ? kept.Select((r, i) => (r.PromptId, correct[i])).GroupBy(x => x.PromptId)
                .Where(g => g.All(x => x.Item2 == false)).Select(g => g.Key).ToHashSet(StringComparer.Ordinal)
            : [];
        var toScore = Enumerable.Range(0, kept.Count).Where(i => !dropped.Contains(kept[i].PromptId)).ToArray();
        var scores = Enumerable.Repeat(double.NaN, kept.Count).ToArray();
        // Progress per chunk; a chunk of a few hundred responses keeps the CPU forward's per-call setup (packing the weights) small.
        var chunk = Math.Max(o.ScoreBatchSize * 4, 512);
        for (var start = 0; start < toScore.Length; start += chunk)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var idx = toScore.Skip(start).Take(chunk).ToArray();
            var chunkScores = _rewardModel.Score(idx.Select(i => (kept[i].Prompt, kept[i].Response)).ToArray(), o.ScoreBatchSize);
            for (var j = 0; j < idx.Length; j++) scores[idx[j]] = chunkScores[j];
            progress?.Report(new StageProgress(StageName, Math.Min(toScore.Length, start + chunk), toScore.Length, "response", new Dictionary<string, double>()));
        }
        var scored = kept.Select((r, i) => new ScoredResponse(r, scores[i], correct[i])).ToArray();
        var result = Select(scored, o, _rewardModel.CheckpointHash, duplicates, unfinished, responses.Count);
        if (o.MaxKindUpsample > 1 && tasks is not null)
            result = result with
            {
                Sft = KindBalance.Upsample(result.Sft, e => e.Source?.TryGetValue("prompt_id", out var id) == true && tasks.TryGetValue(id, out var t) ? t.Kind?.ToString() : null,
                    o.MaxKindUpsample),
            };
        _logger.LogInformation("rejection sampling: {Prompts} prompts, {Responses} responses ({Dup} duplicates) → {Sft} SFT examples, {Pairs} pairs; mean best reward {Best:F3}",
            result.Stats.Prompts, result.Stats.Responses, result.Stats.Duplicates, result.Stats.SftKept, result.Stats.PairsKept, result.Stats.MeanBestScore);
        return result;
    }

    /// <summary>
    /// The selection as a pure function of scored responses (grouped by prompt id in first-appearance order).
    /// Ranking: checker-correct first when the checker is on, then higher reward, then lower sample index.
    /// </summary>
    /// <param name="scored">Scored responses of one or more prompts.</param>
    /// <param name="options">Threshold, pair margin, duplicates and checker settings.</param>
    /// <param name="rewardModelCheckpoint">Recorded in provenance.</param>
    /// <param name="duplicatesBefore">Duplicates the caller already removed (added to the stats).</param>
    /// <param name="unfinishedBefore">Unfinished responses the caller already removed (added to the stats).</param>
    /// <param name="responsesSeen">Responses the caller saw; defaults to <paramref name="scored"/>'s count.</param>
    public static RejectionResult Select(IReadOnlyList<ScoredResponse> scored, RejectionOptions options, string? rewardModelCheckpoint = null,
        int duplicatesBefore = 0, int unfinishedBefore = 0, int? responsesSeen = null)
    {
        ArgumentNullException.ThrowIfNull(scored);
        var o = (options ?? throw new ArgumentNullException(nameof(options))).Validate();
        var (kept, dup, unf) = Filter(scored.Select(s => s.Response).ToArray(), o);
        var keep = kept.ToHashSet(ReferenceEqualityComparer.Instance);
        var groups = scored.Where(s => keep.Contains(s.Response)).GroupBy(s => s.Response.PromptId).ToArray();
        var sft = new List<SftExample>();
        var pairs = new List<PreferencePair>();
        int belowThreshold = 0, noCorrect = 0;
        var bestScores = new List<double>();
        foreach (var group in groups)
        {
            var ranked = group
                .OrderByDescending(s => o.Checker != CheckerMode.Off && s.Correct == true ? 1 : 0)
                .ThenByDescending(s => s.Score)
                .ThenBy(s => s.Response.SampleIndex)
                .ToArray();
            var best = ranked[0];
            var verifiable = ranked.Any(s => s.Correct is not null);
            var correctRequiredAndMissing = o.Checker == CheckerMode.RequireCorrect && verifiable && best.Correct != true;
            if (correctRequiredAndMissing) noCorrect++;
            else if (o.MinScore is { } min && best.Score < min) belowThreshold++;
            else
            {
                sft.Add(new SftExample(best.Response.Prompt, best.Response.Response) { Source = Provenance(best, rewardModelCheckpoint, "best_of_n", ranked.Length) });
                bestScores.Add(best.Score);
            }

            if (ranked.Length < 2 || correctRequiredAndMissing) continue;
            var worst = ranked[^1];
            if (string.Equals(best.Response.Response.Trim(), worst.Response.Response.Trim(), StringComparison.Ordinal)) continue;
            var checkerSeparates = o.Checker != CheckerMode.Off && best.Correct == true && worst.Correct == false;
            if (!checkerSeparates && !(best.Score - worst.Score > o.PairMargin)) continue;
            var source = Provenance(best, rewardModelCheckpoint, "best_vs_worst", ranked.Length);
            source.Remove("sample_index");
            source.Remove("score");
            source.Remove("correct");
            source["chosen_sample_index"] = best.Response.SampleIndex.ToString(CultureInfo.InvariantCulture);
            source["rejected_sample_index"] = worst.Response.SampleIndex.ToString(CultureInfo.InvariantCulture);
            if (best.Correct is { } bc) source["chosen_correct"] = bc ? "true" : "false";
            if (worst.Correct is { } wc) source["rejected_correct"] = wc ? "true" : "false";
            source["annotator"] = checkerSeparates ? "checker" : "reward_model";
            pairs.Add(new PreferencePair(best.Response.Prompt, best.Response.Response, worst.Response.Response)
            {
                ScoreChosen = best.Score,
                ScoreRejected = worst.Score,
                Source = source,
            });
        }
        var allScores = groups.SelectMany(g => g).Select(s => s.Score).Where(double.IsFinite).ToArray();
        var stats = new RejectionStats(groups.Length, responsesSeen ?? scored.Count, duplicatesBefore + dup, unfinishedBefore + unf, belowThreshold, noCorrect,
            sft.Count, pairs.Count, allScores.Length > 0 ? allScores.Average() : double.NaN, bestScores.Count > 0 ? bestScores.Average() : double.NaN);
        return new RejectionResult(sft, pairs, groups.SelectMany(g => g).ToArray(), stats);
    }

    /// <summary>Writes the SFT examples and the preference pairs as PostTrain JSONL (each temp-then-rename).</summary>
    public static void Write(RejectionResult result, string sftPath, string pairsPath)
    {
        ArgumentNullException.ThrowIfNull(result);
        SftDataset.Write(sftPath, result.Sft);
        PreferenceDataset.Write(pairsPath, result.Pairs);
    }

    /// <summary>Drops unfinished responses (when required) and duplicates within each prompt (the lowest sample index stays); keeps input order.</summary>
    private static (List<SampledResponse> Kept, int Duplicates, int Unfinished) Filter(IReadOnlyList<SampledResponse> responses, RejectionOptions o)
    {
        var drop = new HashSet<int>();
        var seen = new HashSet<(string, string)>();
        int duplicates = 0, unfinished = 0;
        for (var i = 0; i < responses.Count; i++)
        {
            var r = responses[i] ?? throw new ArgumentException($"response {i} is null", nameof(responses));
            if (r.Response is null || r.Prompt is null || r.Provenance is null)
                throw new ArgumentException($"response {i} (prompt {r.PromptId}, sample {r.SampleIndex}) lacks its text, prompt or provenance", nameof(responses));
        }
        // Visit by sample index so that, of identical responses, the earliest sample survives whatever the input order.
        foreach (var i in Enumerable.Range(0, responses.Count).OrderBy(i => responses[i].SampleIndex).ThenBy(i => i))
        {
            var r = responses[i];
            if (o.RequireStop && !r.Stopped) { unfinished++; drop.Add(i); }
            else if (o.DropDuplicates && !seen.Add((r.PromptId, r.Response.Trim()))) { duplicates++; drop.Add(i); }
        }
        return (responses.Where((_, i) => !drop.Contains(i)).ToList(), duplicates, unfinished);
    }

    private static Dictionary<string, string> Provenance(ScoredResponse s, string? rmCheckpoint, string selection, int candidates)
    {
        var r = s.Response;
        var d = new Dictionary<string, string>
        {
            ["selection"] = selection,
            ["round"] = r.Provenance.Round.ToString(CultureInfo.InvariantCulture),
            ["prompt_id"] = r.PromptId,
            ["sample_index"] = r.SampleIndex.ToString(CultureInfo.InvariantCulture),
            ["score"] = s.Score.ToString("R", CultureInfo.InvariantCulture),
            ["candidates"] = candidates.ToString(CultureInfo.InvariantCulture),
            ["seed"] = r.Provenance.Seed.ToString(CultureInfo.InvariantCulture),
            ["temperature"] = r.Provenance.Temperature.ToString("R", CultureInfo.InvariantCulture),
        };
        if (r.Provenance.SamplerCheckpoint is { } sc) d["sampler_checkpoint"] = sc;
        if (rmCheckpoint is not null) d["reward_model_checkpoint"] = rmCheckpoint;
        if (s.Correct is { } c) d["correct"] = c ? "true" : "false";
        return d;
    }
}
