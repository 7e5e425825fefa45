using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using PostTrain.Model.Prompts;
using PostTrain.Model.Data;
using PostTrain.Core.Progress;
using PostTrain.Model.Tokenization;
using PostTrain.Model.Training;

namespace PostTrain.Trainers.Evaluation;

/// <summary>
/// Compares a round's candidate policies on held-out prompts and picks one. Generation and scoring come in as delegates
/// so this library needs neither the sampler nor the reward model (stage libraries are siblings); the workflow layer wires
/// the real ones.
/// </summary>
public sealed class Evaluator
{
    public const string StageName = "evaluate";

    private readonly EvaluationOptions _options;
    private readonly Func<string, IReadOnlyList<IReadOnlyList<ChatMessage>>, IReadOnlyList<string>> _generate;
    private readonly Func<IReadOnlyList<IReadOnlyList<ChatMessage>>, IReadOnlyList<string>, IReadOnlyList<double>> _score;
    private readonly ILogger _logger;

    /// <param name="generate">(checkpoint dir, prompts) → one greedy response per prompt (the Sampler at temperature 0).</param>
    /// <param name="score">(prompts, responses) → one reward-model score per response (RewardModel.Score).</param>
    public Evaluator(EvaluationOptions options,
        Func<string, IReadOnlyList<IReadOnlyList<ChatMessage>>, IReadOnlyList<string>> generate,
        Func<IReadOnlyList<IReadOnlyList<ChatMessage>>, IReadOnlyList<string>, IReadOnlyList<double>> score,
        ILogger<Evaluator>? logger = null)
    {
        _options = (options ?? throw new ArgumentNullException(nameof(options))).Validate();
        _generate = generate ?? throw new ArgumentNullException(nameof(generate));
        _score = score ?? throw new ArgumentNullException(nameof(score));
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <summary>
    /// Evaluates every candidate (and, with <see cref="EvaluationOptions.IncludeAverage"/>, their weight average written to
    /// <paramref name="averageDir"/>) against the current sampler at <paramref name="baselineDir"/>, then selects.
    /// </summary>
    public SelectionResult EvaluateRound(IReadOnlyList<Candidate> candidates, string baselineDir, IReadOnlyList<EvalPrompt> prompts,
        string? averageDir = null, IProgress<StageProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        ArgumentNullException.ThrowIfNull(prompts);
        if (candidates.Count == 0) throw new ArgumentException("no candidates to evaluate, expected at least 1", nameof(candidates));
        if (prompts.Count == 0) throw new ArgumentException("no held-out prompts, expected at least 1", nameof(prompts));
        var duplicate = candidates.GroupBy(c => c.Name).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null) throw new ArgumentException($"candidate name \"{duplicate.Key}\" appears {duplicate.Count()} times, expected unique names", nameof(candidates));

        var all = candidates.ToList();
        if (_options.IncludeAverage && candidates.Count >= 2)
        {
            if (averageDir is null) throw new ArgumentException("IncludeAverage is set but no averageDir was given", nameof(averageDir));
            if (all.Any(c => c.Name == _options.AverageName))
                throw new ArgumentException($"a candidate is already named \"{_options.AverageName}\", the weight average's name", nameof(candidates));
            CheckpointAveraging.Average(candidates.Select(c => c.CheckpointDir).ToList(), averageDir);
            all.Add(new Candidate(_options.AverageName, averageDir));
        }

        var messages = prompts.Select(p => p.Messages).ToList();
        var baselineResponses = Generate(baselineDir, messages);
        var baselineScores = Score(messages, baselineResponses, baselineDir);
        var (baselineChecked, baselineCorrect, baselineByKind) = ExactMatch(prompts, baselineResponses);
        var evaluations = new List<CandidateEvaluation>(all.Count);
        for (var i = 0; i < all.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var e = Evaluate(all[i], prompts, baselineScores);
            evaluations.Add(e);
            _logger.LogInformation("candidate {Name}: win rate {WinRate:F3} [{Low:F3}, {High:F3}], exact match {Em}", e.Name, e.WinRate,
                e.WinRateLow, e.WinRateHigh, e.ExactMatch?.ToString("F3") ?? "n/a");
            progress?.Report(new StageProgress(StageName, i + 1, all.Count, "candidate", new Dictionary<string, double>
            {
                ["win_rate"] = e.WinRate,
                ["exact_match"] = e.ExactMatch ?? double.NaN,
            }));
        }
        return SelectBest(evaluations, _options.Rule) with
        {
            BaselineCheckpointDir = baselineDir,
            BaselineExactMatch = baselineChecked > 0 ? (double)baselineCorrect / baselineChecked : null,
            BaselineExactMatchByKind = baselineByKind,
        };
    }

    /// <summary>One candidate's figures against precomputed baseline scores (one per prompt).</summary>
    public CandidateEvaluation Evaluate(Candidate candidate, IReadOnlyList<EvalPrompt> prompts, IReadOnlyList<double> baselineScores)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        if (baselineScores.Count != prompts.Count)
            throw new ArgumentException($"{baselineScores.Count} baseline scores for {prompts.Count} prompts, expected one per prompt", nameof(baselineScores));
        var messages = prompts.Select(p => p.Messages).ToList();
        var responses = Generate(candidate.CheckpointDir, messages);
        var scores = Score(messages, responses, candidate.CheckpointDir);
        int wins = 0, ties = 0, losses = 0;
        for (var i = 0; i < prompts.Count; i++)
        {
            var diff = scores[i] - baselineScores[i];
            if (Math.Abs(diff) <= _options.TieTolerance) ties++;
            else if (diff > 0) wins++;
            else losses++;
        }
        var winCount = wins + 0.5 * ties;
        var (wl, wh) = WilsonInterval.Compute(winCount, prompts.Count);
        var (checkedCount, correct, byKind) = ExactMatch(prompts, responses);
        double? em = null, el = null, eh = null;
        if (checkedCount > 0)
        {
            em = (double)correct / checkedCount;
            (el, eh) = WilsonInterval.Compute(correct, checkedCount);
        }
        return new CandidateEvaluation
        {
            Name = candidate.Name,
            CheckpointDir = candidate.CheckpointDir,
            Hyperparameters = candidate.Hyperparameters,
            Prompts = prompts.Count,
            Wins = wins,
            Ties = ties,
            Losses = losses,
            WinRate = winCount / prompts.Count,
            WinRateLow = wl,
            WinRateHigh = wh,
            MeanReward = scores.Average(),
            BaselineMeanReward = baselineScores.Average(),
            Checked = checkedCount,
            Correct = correct,
            ExactMatch = em,
            ExactMatchLow = el,
            ExactMatchHigh = eh,
            ExactMatchByKind = byKind,
        };
    }

    /// <summary>
    /// Ranks <paramref name="evaluations"/> by <paramref name="rule"/> and returns the first with all figures.
    /// <see cref="SelectionRule.ExactMatchThenWinRate"/>: exact-match accuracy (a candidate without checked prompts ranks
    /// below any with), then win rate; <see cref="SelectionRule.WinRateThenExactMatch"/>: the reverse. Remaining ties go to
    /// the higher mean reward, then to the earlier candidate. Point estimates decide; the intervals are reported so a reader
    /// can see when a choice is within noise.
    /// </summary>
    public static SelectionResult SelectBest(IReadOnlyList<CandidateEvaluation> evaluations, SelectionRule rule = SelectionRule.ExactMatchThenWinRate)
    {
        ArgumentNullException.ThrowIfNull(evaluations);
        if (evaluations.Count == 0) throw new ArgumentException("no evaluations to select from, expected at least 1", nameof(evaluations));
        static double Em(CandidateEvaluation e) => e.ExactMatch ?? double.NegativeInfinity;
        var indexed = evaluations.Select((e, i) => (e, i));
        var ordered = rule switch
        {
            SelectionRule.ExactMatchThenWinRate => indexed.OrderByDescending(x => Em(x.e)).ThenByDescending(x => x.e.WinRate),
            SelectionRule.WinRateThenExactMatch => indexed.OrderByDescending(x => x.e.WinRate).ThenByDescending(x => Em(x.e)),
            _ => throw new ArgumentOutOfRangeException(nameof(rule), rule, "unknown selection rule"),
        };
        var ranking = ordered.ThenByDescending(x => x.e.MeanReward).ThenBy(x => x.i).Select(x => x.e).ToList();
        var best = ranking[0];
        return new SelectionResult(best.Name, best.CheckpointDir, rule, Reason(ranking, rule), ranking);
    }

    private static string Reason(IReadOnlyList<CandidateEvaluation> ranking, SelectionRule rule)
    {
        var best = ranking[0];
        if (ranking.Count == 1) return $"{best.Name} is the only candidate";
        var second = ranking[1];
        var em = $"exact match {Fmt(best.ExactMatch)} vs {Fmt(second.ExactMatch)}";
        var wr = $"win rate {best.WinRate:F3} vs {second.WinRate:F3}";
        var emDecides = best.ExactMatch != second.ExactMatch;
        var wrDecides = best.WinRate != second.WinRate;
        var by = rule == SelectionRule.ExactMatchThenWinRate
            ? emDecides ? em : wrDecides ? $"equal exact match, {wr}" : "equal exact match and win rate, mean reward or order"
            : wrDecides ? wr : emDecides ? $"equal win rate, {em}" : "equal win rate and exact match, mean reward or order";
        return $"{best.Name} over {second.Name} by {by} ({rule})";
    }

    private static string Fmt(double? v) => v?.ToString("F3", System.Globalization.CultureInfo.InvariantCulture) ?? "n/a";

    /// <summary>Exact match of one checkpoint's greedy answers to other prompts than the round's (k-shot ones, say):
    /// no reward model involved; null when no prompt has a checker.</summary>
    public (double? ExactMatch, int Checked, int Correct) ExactMatchOf(string checkpointDir, IReadOnlyList<EvalPrompt> prompts)
    {
        ArgumentNullException.ThrowIfNull(prompts);
        var (checkedCount, correct, _) = ExactMatch(prompts, Generate(checkpointDir, prompts.Select(p => p.Messages).ToList()));
        return (checkedCount > 0 ? (double)correct / checkedCount : null, checkedCount, correct);
    }

    /// <summary><paramref name="selection"/> with the k-shot exact match of the baseline and of every candidate except
    /// <paramref name="skip"/>, answering <paramref name="fewShotPrompts"/> (<see cref="FewShotPrompts.Build"/>).
    /// The ranking is not changed: the round is chosen zero-shot, as before; the k-shot figure is reported beside it.</summary>
    public SelectionResult WithFewShot(SelectionResult selection, IReadOnlyList<EvalPrompt> fewShotPrompts, int shots, IReadOnlySet<string>? skip = null)
    {
        ArgumentNullException.ThrowIfNull(selection);
        ArgumentOutOfRangeException.ThrowIfLessThan(shots, 1);
        var ranking = selection.Ranking.Select(e => skip?.Contains(e.Name) == true ? e : e with { FewShotExactMatch = ExactMatchOf(e.CheckpointDir, fewShotPrompts).ExactMatch }).ToList();
        var baseline = selection.BaselineCheckpointDir is { } dir ? ExactMatchOf(dir, fewShotPrompts).ExactMatch : null;
        return selection with { Ranking = ranking, FewShots = shots, BaselineFewShotExactMatch = baseline };
    }

    private static readonly IVerifier Checker = new CheckerVerifier();

    private static (int Checked, int Correct, IReadOnlyDictionary<string, double> ByKind) ExactMatch(IReadOnlyList<EvalPrompt> prompts, IReadOnlyList<string> responses)
    {
        int checkedCount = 0, correct = 0;
        var byKind = new SortedDictionary<string, (int Checked, int Correct)>(StringComparer.Ordinal);
        for (var i = 0; i < prompts.Count; i++)
        {
            if (prompts[i].Task is not { } task) continue;
            if ((prompts[i].Verifier ?? Checker).Verify(task, responses[i]) is not { } right) continue;
            checkedCount++;
            if (right) correct++;
            var k = byKind.GetValueOrDefault(task.KindName);
            byKind[task.KindName] = (k.Checked + 1, k.Correct + (right ? 1 : 0));
        }
        return (checkedCount, correct, byKind.ToDictionary(kv => kv.Key, kv => (double)kv.Value.Correct / kv.Value.Checked));
    }

    private IReadOnlyList<string> Generate(string dir, IReadOnlyList<IReadOnlyList<ChatMessage>> prompts)
    {
        var responses = _generate(dir, prompts);
        if (responses.Count != prompts.Count)
            throw new InvalidOperationException($"generation for {dir} returned {responses.Count} responses for {prompts.Count} prompts, expected one each");
        return responses;
    }

    private IReadOnlyList<double> Score(IReadOnlyList<IReadOnlyList<ChatMessage>> prompts, IReadOnlyList<string> responses, string dir)
    {
        var scores = _score(prompts, responses);
        if (scores.Count != prompts.Count)
            throw new InvalidOperationException($"reward model returned {scores.Count} scores for {prompts.Count} responses of {dir}, expected one each");
        if (scores.Any(s => !double.IsFinite(s)))
            throw new InvalidOperationException($"reward model returned a non-finite score for a response of {dir}");
        return scores;
    }
}
