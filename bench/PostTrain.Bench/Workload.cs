using PostTrain.Model;
using static TorchSharp.torch;

namespace PostTrain.Bench;

/// <summary>
/// One preset's benchmark shapes and data: random token rows from a fixed seed (throughput does not depend on the values),
/// SFT rows whose first quarter is prompt (no loss), and DPO pairs sharing that prompt.
/// </summary>
internal sealed class Workload
{
    public required string Preset { get; init; }
    public required LlamaConfig Config { get; init; }
    /// <summary>Rows per training step (DPO: rows = 2 × pairs, so the token count matches the other steps).</summary>
    public required int Batch { get; init; }
    public required int SeqLen { get; init; }
    public required int Warmup { get; init; }
    public required int Iters { get; init; }

    public static Workload For(string preset, bool quick)
    {
        var config = LlamaConfig.Preset(preset);
        return preset switch
        {
            // small: the default demo model, rows as long as it allows.
            "small" => new Workload { Preset = preset, Config = config, Batch = quick ? 4 : 8, SeqLen = config.MaxPositionEmbeddings, Warmup = quick ? 1 : 2, Iters = quick ? 2 : 6 },
            // medium: hidden 512, 8 layers, seq 256: big enough that GEMMs, not dispatch, should dominate.
            _ => new Workload { Preset = preset, Config = config, Batch = quick ? 2 : 8, SeqLen = Math.Min(256, config.MaxPositionEmbeddings), Warmup = 1, Iters = quick ? 2 : 3 },
        };
    }

    public int[][] RandomRows(int rows, int length, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, rows).Select(_ => Enumerable.Range(0, length).Select(_ => rng.Next(Config.VocabSize)).ToArray()).ToArray();
    }

    /// <summary>(B, T+1) int64 rows for the pretraining loss (inputs = first T, targets = last T).</summary>
    public Tensor PretrainRows(int seed = 1) => ToTensor(RandomRows(Batch, SeqLen + 1, seed));

    /// <summary>SFT rows: ids of length T and next-token targets, the first quarter (the prompt) ignored.</summary>
    public List<(int[] Ids, int[] Targets)> SftRows(int rows, int seed = 2)
    {
        var prompt = SeqLen / 4;
        return RandomRows(rows, SeqLen + 1, seed).Select(r =>
            (r[..SeqLen], r[1..].Select((t, i) => i < prompt - 1 ? Trainers.TokenTargets.IgnoreIndex : t).ToArray())).ToList();
    }

    /// <summary>Preference pairs: chosen and rejected share the prompt (first quarter) and differ in the response.</summary>
    public List<((int[] Ids, int[] Targets) Chosen, (int[] Ids, int[] Targets) Rejected)> DpoPairs(int pairs, int seed = 3)
    {
        var chosen = SftRows(pairs, seed);
        var rejected = SftRows(pairs, seed + 1000);
        var prompt = SeqLen / 4;
        for (var i = 0; i < pairs; i++) Array.Copy(chosen[i].Ids, rejected[i].Ids, prompt);
        return chosen.Zip(rejected).ToList();
    }

    public static Tensor ToTensor(int[][] rows) =>
        tensor(rows.SelectMany(r => r.Select(x => (long)x)).ToArray(), [rows.Length, rows[0].Length]);
}
