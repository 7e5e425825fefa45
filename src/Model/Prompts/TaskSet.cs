using System.Text.Json;
using System.Text.Json.Serialization;
using PostTrain.Model.Checkpoints;
using PostTrain.Model.Data;

namespace PostTrain.Model.Prompts;

/// <summary>
/// The verifiable-task sets of a run, stored as one artifact directory: the corpus options that regenerate the
/// pretraining corpus exactly, and the held-out and sampling tasks the later stages use. Pretraining and
/// post-training read the same artifact, so a held-out task can never leak into training. Made by an
/// <see cref="IPromptSource"/>; <see cref="Verifier"/> names the verifier that checks its answers.
/// </summary>
public sealed record TaskSet(PretrainCorpusOptions Options, IReadOnlyList<VerifiableTask> HeldOut, IReadOnlyList<VerifiableTask> Sampling,
    IReadOnlyList<VerifiableTask> Annotation)
{
    public const string OptionsFile = "corpus.json", HeldOutFile = "heldout.jsonl", SamplingFile = "prompts.jsonl", AnnotationFile = "annotation.jsonl",
        ReferencesFile = "references.jsonl", LayoutFile = "layout.json";

    /// <summary>
    /// Sampling prompts per round; 0 = every round samples all of <see cref="Sampling"/>. Llama 3 drew new prompts each
    /// round: re-sampling the same few prompts makes later rounds imitate answers the policy already gives.
    /// </summary>
    public int PromptsPerRound { get; init; }

    /// <summary>
    /// Tasks whose reference answers the reward model learns before the pairs (AnnotatePreferences writes them). Drawn
    /// apart from every other prompt of the set: the RM's held-out pairs are annotation prompts, and a reference for one
    /// of them would be its answer key.
    /// </summary>
    public IReadOnlyList<VerifiableTask> References { get; init; } = [];

    /// <summary>The verifier spec (<see cref="Verifiers.Parse"/>) that checks these tasks; null = the built-in checker.</summary>
    public string? Verifier { get; init; }

    /// <summary>True for the built-in generator's tasks, which can draw fresh held-out tasks; false for the user's prompts.</summary>
    public bool IsBuiltIn => Verifier is null;

    /// <summary>The verifier of these tasks.</summary>
    public IVerifier CreateVerifier() => Verifiers.Parse(Verifier ?? Verifiers.Checker);

    /// <summary>
    /// <paramref name="count"/> held-out tasks that no activity of the run saw: Evaluate selects each round's checkpoint
    /// on <see cref="HeldOut"/>, so figures on that set flatter the winner a little. The held-out generator is seeded
    /// apart from the rest, so these are the next draws after the run's own, rebuilt from <see cref="Options"/>.
    /// </summary>
    public IReadOnlyList<VerifiableTask> FreshHeldOut(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        // The user's file has no prompts beyond its own held-out rows.
        if (!IsBuiltIn) return [];
        var used = HeldOut.Select(t => t.Prompt).ToHashSet(StringComparer.Ordinal);
        // Task sets written before the held-out generator was separate drew HeldOut elsewhere: drop any overlap.
        return PretrainCorpus.HeldOutTasksFor(Options, Options.HeldOutExamples + count + used.Count)
            .Skip(Options.HeldOutExamples).Where(t => !used.Contains(t.Prompt)).Take(count).ToList();
    }

    /// <summary>The prompts round <paramref name="round"/> (0-based) samples: its own slice, wrapping around when a run has more rounds than slices.</summary>
    public IReadOnlyList<VerifiableTask> SamplingFor(int round)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(round);
        if (PromptsPerRound <= 0 || PromptsPerRound >= Sampling.Count) return Sampling;
        var slices = Sampling.Count / PromptsPerRound;
        return Sampling.Skip(round % slices * PromptsPerRound).Take(PromptsPerRound).ToList();
    }

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };
    private static readonly JsonSerializerOptions Line = new(JsonSerializerDefaults.Web);

    public IReadOnlyDictionary<string, VerifiableTask> ById() =>
        HeldOut.Concat(Sampling).Concat(Annotation).GroupBy(t => t.Id).ToDictionary(g => g.Key, g => g.First());

    public void Write(string dir)
    {
        AtomicFile.WriteAllText(Path.Combine(dir, OptionsFile), JsonSerializer.Serialize(Options, Json));
        WriteTasks(Path.Combine(dir, HeldOutFile), HeldOut);
        WriteTasks(Path.Combine(dir, SamplingFile), Sampling);
        WriteTasks(Path.Combine(dir, AnnotationFile), Annotation);
        WriteTasks(Path.Combine(dir, ReferencesFile), References);
        AtomicFile.WriteAllText(Path.Combine(dir, LayoutFile), JsonSerializer.Serialize(new Layout(PromptsPerRound) { Verifier = Verifier }, Json));
    }

    private sealed record Layout(int PromptsPerRound)
    {
        // Absent for built-in task sets, so their bytes (and artifact hashes) are what they were before verifiers.
        [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
        public string? Verifier { get; init; }
    }

    public static TaskSet Read(string dir)
    {
        var optionsPath = Path.Combine(dir, OptionsFile);
        if (!File.Exists(optionsPath)) throw new FileNotFoundException($"{dir}: not a task set, {OptionsFile} is missing", optionsPath);
        var options = JsonSerializer.Deserialize<PretrainCorpusOptions>(File.ReadAllText(optionsPath), Json)
            ?? throw new InvalidDataException($"{optionsPath}: empty corpus options");
        // Task sets written before per-round prompts have no layout: every round samples them all.
        var layoutPath = Path.Combine(dir, LayoutFile);
        var layout = File.Exists(layoutPath)
            ? JsonSerializer.Deserialize<Layout>(File.ReadAllText(layoutPath), Json) ?? throw new InvalidDataException($"{layoutPath}: empty layout")
            : new Layout(0);
        if (layout.PromptsPerRound < 0) throw new InvalidDataException($"{layoutPath}: promptsPerRound is {layout.PromptsPerRound}, expected >= 0");
        // Task sets written before reference answers have none.
        var referencesPath = Path.Combine(dir, ReferencesFile);
        return new TaskSet(options, ReadTasks(Path.Combine(dir, HeldOutFile)), ReadTasks(Path.Combine(dir, SamplingFile)),
            ReadTasks(Path.Combine(dir, AnnotationFile)))
        {
            PromptsPerRound = layout.PromptsPerRound,
            Verifier = layout.Verifier,
            References = File.Exists(referencesPath) ? ReadTasks(referencesPath) : [],
        };
    }

    private static void WriteTasks(string path, IEnumerable<VerifiableTask> tasks) =>
        AtomicFile.WriteAllText(path, string.Concat(tasks.Select(t => JsonSerializer.Serialize(t, Line) + "\n")));

    private static List<VerifiableTask> ReadTasks(string path)
    {
        var tasks = new List<VerifiableTask>();
        var lineNo = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNo++;
            if (line.Length == 0) continue;
            try
            {
                tasks.Add(JsonSerializer.Deserialize<VerifiableTask>(line, Line) ?? throw new JsonException("null task"));
            }
            catch (JsonException e)
            {
                throw new InvalidDataException($"{path}:{lineNo}: not a verifiable task: {e.Message}", e);
            }
        }
        return tasks;
    }
}
