namespace PostTrain.Model.Prompts;

/// <summary>
/// The user's imported prompts (<see cref="PromptDataset"/>) with the verifier that checks their answers. Held-out
/// rows (by prompt hash, fixed at import) are the evaluation set; train rows are split, in file order, into annotation
/// prompts (for the reward model's pairs, when the verifier judges) and sampling prompts, which the rounds take in turn.
/// Every used reference answer is checked against the verifier first, so a row it cannot read fails the run before any
/// training, naming its line.
/// </summary>
public sealed class PromptFileSource(string datasetPath, IVerifier verifier, string? sourceName = null) : IPromptSource
{
    /// <summary>
    /// The source for a stored dataset with the verifier <paramref name="verifierSpec"/>; empty = <c>numeric</c> when
    /// every row has a reference answer, <c>none</c> (the reward model alone) when none has.
    /// </summary>
    /// <exception cref="ArgumentException">An unknown verifier, or an empty spec on a file where only some rows have answers.</exception>
    public static PromptFileSource Open(string datasetPath, string? verifierSpec, string? sourceName = null)
    {
        if (!string.IsNullOrWhiteSpace(verifierSpec)) return new PromptFileSource(datasetPath, Verifiers.Parse(verifierSpec), sourceName);
        int rows = 0, answered = 0;
        foreach (var row in PromptDataset.Read(datasetPath))
        {
            rows++;
            if (!string.IsNullOrWhiteSpace(row.Answer)) answered++;
        }
        if (answered > 0 && answered < rows)
            throw new ArgumentException($"verifier: {sourceName ?? datasetPath}: {answered} of {rows} prompts have a reference answer; name a verifier ({Verifiers.Kinds})");
        return new PromptFileSource(datasetPath, Verifiers.Parse(answered > 0 ? Verifiers.Numeric : Verifiers.None), sourceName);
    }

    public TaskSet CreateTaskSet(TaskSetOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(verifier);
        var name = sourceName ?? datasetPath;
        var rows = PromptDataset.Read(datasetPath).ToList();
        var judges = verifier is not NoVerifier;
        var problems = rows.Where(_ => judges).Select(r => (r, Problem: string.IsNullOrWhiteSpace(r.Answer) && verifier is not RegexVerifier
                ? $"no reference answer for verifier {verifier.Name}"
                : verifier.ReferenceProblem(r.Answer)))
            .Where(x => x.Problem is not null).Take(PromptImporter.MaxReportedErrors).ToList();
        if (problems.Count > 0)
            throw new InvalidOperationException(string.Join("\n", problems.Select(x => $"{name}:{x.r.Line}: answer: {x.Problem}")));
        var heldOut = rows.Where(r => r.Split == TaskSplit.HeldOut).Take(options.HeldOut).Select(r => r.ToTask()).ToList();
        var train = rows.Where(r => r.Split == TaskSplit.Train).Select(r => r.ToTask()).ToList();
        if (heldOut.Count == 0)
            throw new InvalidOperationException($"{name}: none of its {rows.Count} prompts is held out (1 in {1 / PromptDataset.HeldOutFraction:F0} by prompt hash); evaluation needs more prompts");
        if (train.Count == 0) throw new InvalidOperationException($"{name}: all {rows.Count} prompts are held out; sampling needs more prompts");
        // Annotation takes at most half the train rows, so sampling always keeps prompts of its own.
        var annotation = judges ? train.Take(Math.Min(options.AnnotationPrompts, train.Count / 2)).ToList() : [];
        var sampling = train.Skip(annotation.Count).ToList();
        return new TaskSet(BuiltInPromptSource.CorpusOptions(options, 0), heldOut, sampling, annotation)
        {
            PromptsPerRound = Math.Min(options.Prompts, sampling.Count),
            Verifier = verifier.Name,
        };
    }
}
