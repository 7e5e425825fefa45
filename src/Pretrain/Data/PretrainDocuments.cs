using PostTrain.Model.Prompts;
using PostTrain.Model.Data;
using PostTrain.Model.Tokenization;

namespace PostTrain.Pretrain.Data;

/// <summary>
/// The documents of one pretraining run, split into training and held-out: either the embedded corpus of
/// chat-formatted verifiable-task conversations (held-out tasks come from the generator's hash-defined held-out
/// split, so no held-out prompt is ever trained on), or the user's own text files.
/// </summary>
public sealed class PretrainDocuments
{
    public IReadOnlyList<CorpusDocument> Train { get; }
    public IReadOnlyList<CorpusDocument> HeldOut { get; }
    /// <summary>Held-out tasks for exact-match accuracy; empty for user text.</summary>
    public IReadOnlyList<VerifiableTask> HeldOutTasks { get; }

    private readonly IReadOnlyList<string>? _tokenizerTexts;

    private PretrainDocuments(IReadOnlyList<CorpusDocument> train, IReadOnlyList<CorpusDocument> heldOut, IReadOnlyList<VerifiableTask> heldOutTasks,
        IReadOnlyList<string>? tokenizerTexts = null)
    {
        _tokenizerTexts = tokenizerTexts;
        Train = train;
        HeldOut = heldOut;
        HeldOutTasks = heldOutTasks;
    }

    /// <summary>SFT conversations that join only the annealing mix (<see cref="PretrainOptions.AnnealSftFiles"/>).</summary>
    public IReadOnlyList<CorpusDocument> AnnealSft { get; private set; } = [];

    public static PretrainDocuments Build(PretrainOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var documents = options.DataFiles.Count > 0 ? FromFiles(options) : FromTasks(options);
        try
        {
            documents.AnnealSft = options.AnnealSftFiles
                .SelectMany(SftDataset.Read)
                .Select(e => new CorpusDocument(e.Prompt[^1].Content, e.Response, HighQuality: true, Prompt: e.Prompt))
                .ToList();
        }
        catch (PreferenceImportException e) { throw new InvalidDataException(e.Message, e); }
        return documents;
    }

    /// <summary>
    /// The embedded <see cref="PretrainCorpus"/> (same seed → the same held-out and sampling sets the later stages
    /// use): <see cref="PretrainOptions.CorpusSize"/> training conversations, held-out tasks for loss and exact match.
    /// </summary>
    public static PretrainDocuments FromTasks(PretrainOptions options)
    {
        var corpus = PretrainCorpus.Build(new PretrainCorpusOptions
        {
            Examples = options.CorpusSize,
            HeldOutExamples = Math.Max(options.ExactMatchTasks, 64),
            Seed = options.Seed,
            Difficulty = options.TaskDifficulty,
            ReversedDigits = options.TaskReversedDigits,
            WorkedProducts = options.TaskWorkedProducts,
            BalancedKinds = options.TaskBalancedKinds,
        });
        var hard = options.AnnealKinds.ToHashSet();
        return new PretrainDocuments(
            corpus.TrainTasks.Select(t => new CorpusDocument(t.Prompt, t.Answer, t.Kind is { } kind && hard.Contains(kind))).ToList(),
            corpus.HeldOutTasks.Select(t => new CorpusDocument(t.Prompt, t.Answer, t.Kind is { } kind && hard.Contains(kind))).ToList(),
            corpus.HeldOutTasks,
            corpus.TokenizerTrainingText().ToList());
    }

    /// <summary>The user's files; a seeded shuffle puts <see cref="PretrainOptions.HeldOutFraction"/> of documents (at least one) aside.</summary>
    public static PretrainDocuments FromFiles(PretrainOptions options)
    {
        var docs = TextDocuments.Load(options.DataFiles).Select(t => new CorpusDocument(t)).ToArray();
        if (docs.Length < 2)
            throw new InvalidDataException($"{string.Join(", ", options.DataFiles)}: {docs.Length} document(s), expected at least 2 (one is held out for evaluation)");
        new Random(options.Seed).Shuffle(docs);
        var heldOut = Math.Clamp((int)Math.Round(docs.Length * options.HeldOutFraction), 1, docs.Length - 1);
        return new PretrainDocuments(docs[heldOut..], docs[..heldOut], []);
    }

    /// <summary>The training documents with the high-quality subset repeated <paramref name="upsample"/> times in all,
    /// and the <see cref="AnnealSft"/> conversations <paramref name="sftUpsample"/> times each; shuffled by the packer's order.</summary>
    public IEnumerable<CorpusDocument> AnnealMix(int upsample, int sftUpsample = 1)
    {
        foreach (var d in Train) yield return d;
        for (var r = 1; r < upsample; r++)
            foreach (var d in Train)
                if (d.HighQuality) yield return d;
        for (var r = 0; r < sftUpsample; r++)
            foreach (var d in AnnealSft) yield return d;
    }

    /// <summary>Texts the BPE is trained on: the corpus's own tokenizer text, or every training document plus the chat role names.</summary>
    public IEnumerable<string> TokenizerTexts()
    {
        if (_tokenizerTexts is not null) { foreach (var t in _tokenizerTexts) yield return t; yield break; }
        foreach (var role in ChatTemplate.Roles) { yield return role + "\n\n"; yield return role + "\n\n"; }
        foreach (var d in Train) yield return d.Response is null ? d.Text : d.Text + "\n" + d.Response;
    }

    public bool IsCorrect(VerifiableTask task, string response) => TaskChecker.IsCorrect(task, response);
}
