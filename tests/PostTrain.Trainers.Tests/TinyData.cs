using PostTrain.Model;
using PostTrain.Model.Tokenization;
using PostTrain.Trainers.Dpo;

namespace PostTrain.Trainers.Tests;

/// <summary>Hand-made token sequences and a tiny random model, so trainer tests need no tokenizer and run in seconds.</summary>
internal static class TinyData
{
    public const int Pad = 0;
    public const int Bos = 1, Header = 2, EndHeader = 3, Eot = 4;

    public static LlamaForCausalLM Model(int seed = 0)
    {
        TorchSharp.torch.manual_seed(seed);
        return new LlamaForCausalLM(LlamaConfig.Preset("tiny"));
    }

    /// <summary>bos, header, role, end-header, prompt ids, eot, header, role, end-header | response ids, eot — as ChatTemplate lays it out.</summary>
    public static ChatEncoding Example(int[] prompt, int[] response)
    {
        var ids = new List<int>();
        var fmt = new List<bool>();
        void Add(int id, bool f) { ids.Add(id); fmt.Add(f); }
        Add(Bos, true); Add(Header, true); Add(10, true); Add(EndHeader, true);
        foreach (var p in prompt) Add(p, false);
        Add(Eot, true); Add(Header, true); Add(11, true); Add(EndHeader, true);
        var promptLength = ids.Count;
        foreach (var r in response) Add(r, false);
        Add(Eot, true);
        return new ChatEncoding(ids.ToArray(), fmt.ToArray(), promptLength);
    }

    public static IReadOnlyList<ChatEncoding> Examples(int count, int seed, int minLen = 3, int maxLen = 9)
    {
        var rng = new Random(seed);
        int[] Seq() => Enumerable.Range(0, rng.Next(minLen, maxLen)).Select(_ => rng.Next(20, 380)).ToArray();
        return Enumerable.Range(0, count).Select(_ => Example(Seq(), Seq())).ToList();
    }

    /// <summary>Pairs whose chosen response is a fixed pattern and rejected a random one, so preference is learnable.</summary>
    public static IReadOnlyList<PreferenceEncoding> Pairs(int count, int seed)
    {
        var rng = new Random(seed);
        int[] Seq(int n) => Enumerable.Range(0, n).Select(_ => rng.Next(100, 380)).ToArray();
        return Enumerable.Range(0, count).Select(_ =>
        {
            var prompt = Seq(4);
            return new PreferenceEncoding(Example(prompt, [50, 51, 52, 53]), Example(prompt, Seq(4)));
        }).ToList();
    }
}
