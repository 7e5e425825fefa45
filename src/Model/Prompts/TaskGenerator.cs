using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace PostTrain.Model.Prompts;

/// <summary>
/// Seeded generator of arithmetic, sorting and word-problem tasks. The train / held-out split is a hash of the
/// prompt text, not of the draw order, so two generators with different seeds still never put one prompt on
/// both sides, and evaluation stays clean across rounds.
/// </summary>
public sealed class TaskGenerator
{
    private static readonly string[] Names = ["Ana", "Ben", "Chloe", "Dev", "Emma", "Finn", "Gia", "Hugo", "Ivy", "Jack"];
    private static readonly string[] Items = ["apples", "marbles", "stickers", "coins", "books", "pencils", "cards", "shells"];

    private readonly Random _rng;
    private readonly TaskKind[] _kinds;

    /// <param name="seed">Same seed, same options: the same task sequence.</param>
    /// <param name="difficulty">1 (one or two digits, short lists) to 6 (up to seven digits); numbers have up to difficulty+1 digits.</param>
    /// <param name="heldOutFraction">Share of all possible prompts reserved for evaluation (default 0.1).</param>
    /// <param name="kinds">Kinds to draw from uniformly; default all.</param>
    public TaskGenerator(int seed, int difficulty = 2, double heldOutFraction = 0.1, IReadOnlyList<TaskKind>? kinds = null)
    {
        if (difficulty is < 1 or > 6) throw new ArgumentOutOfRangeException(nameof(difficulty), difficulty, "difficulty must be in [1, 6]");
        if (heldOutFraction is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(heldOutFraction), heldOutFraction, "held-out fraction must be in [0, 1)");
        _rng = new Random(seed);
        _kinds = (kinds ?? Enum.GetValues<TaskKind>()).ToArray();
        if (_kinds.Length == 0) throw new ArgumentException("at least one task kind is needed", nameof(kinds));
        Difficulty = difficulty;
        HeldOutFraction = heldOutFraction;
    }

    public int Difficulty { get; }
    public double HeldOutFraction { get; }

    /// <summary>The split of a prompt: the first 4 bytes of its SHA-256 as a fraction of 2^32.</summary>
    public static TaskSplit SplitOf(string prompt, double heldOutFraction)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(prompt));
        var u = BitConverter.ToUInt32(hash, 0) / 4294967296.0;
        return u < heldOutFraction ? TaskSplit.HeldOut : TaskSplit.Train;
    }

    public TaskSplit SplitOf(VerifiableTask task) => SplitOf(task.Prompt, HeldOutFraction);

    /// <summary>Next task regardless of split.</summary>
    public VerifiableTask Next()
    {
        var kind = _kinds[_rng.Next(_kinds.Length)];
        var (prompt, answer) = kind switch
        {
            TaskKind.Addition => Binary('+', Number(), Number(), (a, b) => a + b),
            TaskKind.Subtraction => Binary('-', Number(), Number(), (a, b) => a - b),
            TaskKind.Multiplication => Binary('*', _rng.Next(2, Difficulty >= 3 ? 13 : 10), Number(), (a, b) => a * b),
            TaskKind.Sorting => Sorting(),
            TaskKind.WordProblem => WordProblem(),
            _ => throw new InvalidOperationException($"unhandled task kind {kind}"),
        };
        return new VerifiableTask(MakeId(kind, prompt), kind, prompt, answer);
    }

    /// <summary>
    /// <paramref name="count"/> distinct tasks from one split, excluding prompts in <paramref name="exclude"/>.
    /// </summary>
    /// <exception cref="InvalidOperationException">The task space at this difficulty is too small for the request.</exception>
    public IReadOnlyList<VerifiableTask> Generate(int count, TaskSplit split, ISet<string>? exclude = null)
    {
        var tasks = GenerateUpTo(count, split, exclude);
        if (tasks.Count < count)
            throw new InvalidOperationException($"could make only {tasks.Count} distinct {split} tasks of {count} requested at difficulty {Difficulty}; raise the difficulty or ask for fewer");
        return tasks;
    }

    /// <summary>As <see cref="Generate"/>, but returns fewer than <paramref name="count"/> when the space of distinct prompts runs out.</summary>
    public IReadOnlyList<VerifiableTask> GenerateUpTo(int count, TaskSplit split, ISet<string>? exclude = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var tasks = new List<VerifiableTask>(count);
        // Give up after a long run of draws that add nothing: the space of distinct prompts is then (nearly) used up.
        const int maxFruitless = 20_000;
        var fruitless = 0;
        while (tasks.Count < count && fruitless < maxFruitless)
        {
            var task = Next();
            if (SplitOf(task) != split || (exclude?.Contains(task.Prompt) ?? false) || !seen.Add(task.Prompt)) { fruitless++; continue; }
            tasks.Add(task);
            fruitless = 0;
        }
        return tasks;
    }

    /// <summary>
    /// <paramref name="count"/> distinct tasks of one split with the kinds spread evenly (k1, k2, …, k1, k2, …), so any
    /// contiguous slice has the kind mix of the whole. Drawing from all kinds at once cannot promise that: a kind whose
    /// prompt space is small (two-digit sums) runs out, and the rest of the set fills up with the large ones (word problems).
    /// A kind that runs out leaves its remaining turns to the others, and its tasks are still spread over the whole list
    /// rather than bunched at its start (where they would all land in a run's first rounds).
    /// </summary>
    /// <param name="reuseExcluded">
    /// When a kind runs out of prompts outside <paramref name="exclude"/>, draw the rest of its share from the excluded ones
    /// of its split. Sampling prompts use it: at difficulty 1 pretraining uses up every training product, and without it the
    /// rounds would never see a multiplication while the held-out set still asks for them.
    /// </param>
    /// <param name="repeat">
    /// When a kind's split holds fewer prompts than its share (708 training products at difficulty 1 against a share of
    /// 4,301 over six rounds of 3,584 prompts), repeat them, each repeat under its own id, so the kind keeps its share. Sampling prompts use
    /// it because a sample is a fresh draw, and a kind left at 4% of the prompts (products, before) gives rejection
    /// sampling almost nothing to keep; a balanced pretraining corpus uses it so the times table is drilled as often as
    /// the other kinds. The repeats follow the first pass in the spread, so a prompt comes back only after the kind's
    /// other prompts (a round of 717 products out of 708 distinct holds 9 twice).
    /// </param>
    public static IReadOnlyList<VerifiableTask> GenerateBalanced(int seed, int difficulty, double heldOutFraction, int count, TaskSplit split,
        ISet<string>? exclude = null, IReadOnlyList<TaskKind>? kinds = null, bool reuseExcluded = false, bool repeat = false)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var all = (kinds ?? Enum.GetValues<TaskKind>()).ToArray();
        if (all.Length == 0) throw new ArgumentException("at least one task kind is needed", nameof(kinds));
        var share = (count + all.Length - 1) / all.Length;
        var perKind = all.Select((k, i) =>
        {
            var generator = new TaskGenerator(SeedStreams.BalancedKind(seed, i), difficulty, heldOutFraction, [k]);
            var drawn = generator.GenerateUpTo(share, split, exclude).ToList();
            if (reuseExcluded && exclude is not null && drawn.Count < share)
                drawn.AddRange(generator.GenerateUpTo(share - drawn.Count, split, drawn.Select(t => t.Prompt).ToHashSet(StringComparer.Ordinal)));
            for (int distinct = drawn.Count, r = distinct; repeat && distinct > 0 && r < share; r++)
                drawn.Add(drawn[r % distinct] with { Id = $"{drawn[r % distinct].Id}-{r / distinct + 1}" });
            return drawn;
        }).ToList();
        // Trim to count keeping the kinds even: round-robin turns, as many as count allows.
        var taken = new int[all.Length];
        for (var total = 0; total < count && perKind.Where((q, i) => taken[i] < q.Count).Any();)
            for (var i = 0; i < all.Length && total < count; i++)
                if (taken[i] < perKind[i].Count) { taken[i]++; total++; }
        for (var i = 0; i < all.Length; i++) perKind[i] = perKind[i].Take(taken[i]).ToList();
        var have = taken.Sum();
        if (have < count)
        {
            // The small kinds ran out before their share: top up from the kinds with room left.
            var used = perKind.SelectMany(q => q).Select(t => t.Prompt).ToHashSet(StringComparer.Ordinal);
            if (exclude is not null) used.UnionWith(exclude);
            var more = new TaskGenerator(SeedStreams.BalancedTopUp(seed), difficulty, heldOutFraction, all).GenerateUpTo(count - have, split, used);
            foreach (var t in more) perKind[Array.IndexOf(all, t.Kind!.Value)].Add(t);
        }
        // Task j of a kind with n tasks sits at (j + ½) / n of the list; ties keep the kinds' order.
        var tasks = perKind.SelectMany((q, i) => q.Select((t, j) => (Key: (j + 0.5) / q.Count, Kind: i, Task: t)))
            .OrderBy(x => x.Key).ThenBy(x => x.Kind).Select(x => x.Task).ToList();
        if (tasks.Count < count)
            throw new InvalidOperationException($"could make only {tasks.Count} distinct {split} tasks of {count} requested at difficulty {difficulty}; raise the difficulty or ask for fewer");
        return tasks;
    }

    private long Number()
    {
        var digits = _rng.Next(1, Difficulty + 2);
        var lo = digits == 1 ? 0 : (long)Math.Pow(10, digits - 1);
        return _rng.NextInt64(lo, (long)Math.Pow(10, digits));
    }

    private static (string, string) Binary(char op, long a, long b, Func<long, long, long> f) =>
        (string.Create(CultureInfo.InvariantCulture, $"What is {a} {op} {b}?"), f(a, b).ToString(CultureInfo.InvariantCulture));

    private (string, string) Sorting()
    {
        var n = _rng.Next(3, 4 + Difficulty);
        var max = (int)Math.Pow(10, Math.Min(Difficulty, 4));
        var values = Enumerable.Range(0, n).Select(_ => _rng.Next(0, max)).ToArray();
        var prompt = $"Sort in ascending order: {string.Join(", ", values)}";
        return (prompt, string.Join(", ", values.Order()));
    }

    private (string, string) WordProblem()
    {
        var name = Names[_rng.Next(Names.Length)];
        var other = Names[(Array.IndexOf(Names, name) + 1 + _rng.Next(Names.Length - 1)) % Names.Length];
        var item = Items[_rng.Next(Items.Length)];
        var a = Number() + 1;
        var b = Number() + 1;
        return _rng.Next(3) switch
        {
            0 => ($"{name} has {a} {item} and gets {b} more from {other}. How many {item} does {name} have now?", (a + b).ToString(CultureInfo.InvariantCulture)),
            1 => ($"{name} has {Math.Max(a, b)} {item} and gives {Math.Min(a, b)} to {other}. How many {item} does {name} have left?",
                (Math.Max(a, b) - Math.Min(a, b)).ToString(CultureInfo.InvariantCulture)),
            _ => ($"{name} fills {a % 20 + 2} bags with {b} {item} each. How many {item} is that in total?",
                ((a % 20 + 2) * b).ToString(CultureInfo.InvariantCulture)),
        };
    }

    private static string MakeId(TaskKind kind, string prompt) =>
        $"{kind.ToString().ToLowerInvariant()}-{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(prompt)), 0, 6)}";
}
