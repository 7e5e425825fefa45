#pragma warning disable IDE1006 // HF tensor names are snake_case on purpose
using System.Globalization;
using PostTrain.Model;
using PostTrain.Model.Checkpoints;
using PostTrain.Model.Scoring;
using PostTrain.Model.Tokenization;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace PostTrain.RewardModel;

/// <summary>
/// A scalar reward for a (prompt, response) sequence: the policy's decoder stack (<c>model.*</c>) plus a linear head
/// <c>score</c> (hidden → 1, no bias) read at the last real token, as Hugging Face's LlamaForSequenceClassification
/// does and as the Llama 2 reward model did (Touvron et al. 2023, sec. 3.2.2: "the classification head for next-token
/// prediction is replaced with a regression head for outputting a scalar reward").
/// </summary>
/// <remarks>
/// The RM owns the <see cref="LlamaForCausalLM"/> it was built from and trains its backbone in place. The unused
/// <c>lm_head</c> stays in that object so an RM checkpoint is an ordinary checkpoint directory plus <c>score.weight</c>.
/// </remarks>
public sealed class RewardModel : nn.Module, IRewardScorer
{
    /// <summary>Name of the head in the checkpoint's extra tensors, HF's key.</summary>
    public const string ScoreWeightName = "score.weight";

    /// <summary>Metadata key and value that mark a checkpoint directory as a reward model.</summary>
    public const string KindKey = "kind";
    public const string KindValue = "reward_model";

    public readonly LlamaConfig Config;
    public readonly LlamaModel model;
    public readonly Linear score;

    /// <summary>Metadata key of <see cref="LikelihoodWeight"/> in an RM checkpoint.</summary>
    public const string LikelihoodWeightKey = "likelihood_weight";

    /// <param name="likelihoodWeight">λ ≥ 0 of the likelihood term (see <see cref="LikelihoodWeight"/>); 0 = the head alone.</param>
    public RewardModel(LlamaForCausalLM backbone, ITokenizer? tokenizer = null, Tensor? scoreWeight = null, double likelihoodWeight = 0) : base(nameof(RewardModel))
    {
        ArgumentNullException.ThrowIfNull(backbone);
        if (!(likelihoodWeight >= 0) || !double.IsFinite(likelihoodWeight))
            throw new ArgumentOutOfRangeException(nameof(likelihoodWeight), likelihoodWeight, "expected a finite value >= 0");
        LikelihoodWeight = likelihoodWeight;
        Backbone = backbone;
        Config = backbone.Config;
        Tokenizer = tokenizer;
        model = backbone.model;
        var device = model.embed_tokens.weight!.device;
        score = nn.Linear(Config.HiddenSize, 1, hasBias: false, device: device);
        using (no_grad())
        {
            if (scoreWeight is null)
                nn.init.normal_(score.weight!, 0, Config.InitializerRange); // HF _init_weights
            else
            {
                if (!scoreWeight.shape.SequenceEqual(new long[] { 1, Config.HiddenSize }))
                    throw new ArgumentException($"{ScoreWeightName} has shape [{string.Join(", ", scoreWeight.shape)}], expected [1, {Config.HiddenSize}]", nameof(scoreWeight));
                score.weight!.copy_(scoreWeight);
            }
        }
        // Registered by hand so the state dict reads model.* and score.weight (HF's names), without lm_head.
        register_module("model", model);
        register_module("score", score);
    }

    /// <summary>
    /// λ in r(x, y) = score(h_last) + λ·log π(y | x), where π is the backbone's own language model (its lm_head, or the
    /// tied embedding) and the log-prob is summed over the response ids. 0 is the plain head of Llama 2 and 3.
    /// </summary>
    /// <remarks>
    /// Why: on checkable tasks a right answer differs from a wrong one in a digit or two, and a freshly initialised head
    /// on one hidden state starts from nothing, while the backbone's likelihood already prefers the answers it can work
    /// out. Bradley–Terry training through both terms then sharpens that likelihood, as DPO's implicit reward does.
    /// Measured on the embedded tasks with the 1200-step small base and the same 489 held-out pairs: 56.4% pairwise
    /// accuracy for the head alone (2 epochs at 3e-4; lower and higher rates did no better), 66.7% for the untrained
    /// likelihood, 78.7% for both after 6 epochs at 1e-4. With 1.6× the pairs (the annotator's current defaults) and
    /// 3 epochs: 81.6% on 789 held-out pairs.
    /// </remarks>
    public double LikelihoodWeight { get; }

    /// <summary>The causal LM whose decoder the RM shares; what a checkpoint stores.</summary>
    public LlamaForCausalLM Backbone { get; }

    /// <summary>Needed by the chat-level <see cref="Score(IReadOnlyList{ValueTuple{IReadOnlyList{ChatMessage}, string}}, int)"/>.</summary>
    public ITokenizer? Tokenizer { get; }

    public Device Device => model.embed_tokens.weight!.device;

    /// <summary>Rewards (B,) for right-padded <paramref name="inputIds"/> (B, T) int64 whose real lengths are <paramref name="lengths"/> (B,) int64.</summary>
    /// <remarks>Right padding needs no mask: causal attention never lets a real token see the pads after it.</remarks>
    /// <param name="responseStarts">(B,) int64 index of each row's first response id; needed when <see cref="LikelihoodWeight"/> &gt; 0.</param>
    public Tensor forward(Tensor inputIds, Tensor lengths, Tensor? responseStarts = null)
    {
        var (rewards, hidden) = ForwardWithHidden(inputIds, lengths, responseStarts);
        hidden.Dispose();
        return rewards;
    }

    /// <summary>Rewards (B,) and the decoder's final hidden states (B, T, C), for losses that also read the backbone.</summary>
    public (Tensor Rewards, Tensor Hidden) ForwardWithHidden(Tensor inputIds, Tensor lengths, Tensor? responseStarts = null)
    {
        using var scope = NewDisposeScope();
        var B = inputIds.shape[0];
        var h = model.forward(inputIds);                                         // (B, T, C)
        var last = h[arange(B, dtype: ScalarType.Int64, device: h.device), LastTokenIndex(inputIds, lengths)]; // (B, C)
        var rewards = score.forward(last).squeeze(-1);                            // (B,)
        if (LikelihoodWeight > 0)
        {
            if (responseStarts is null)
                throw new ArgumentException($"this reward model adds {LikelihoodWeight}·log π(response | prompt) ({LikelihoodWeightKey}) and needs where each row's response starts", nameof(responseStarts));
            rewards = rewards + LikelihoodWeight * ResponseLogProbs(h, inputIds, lengths, responseStarts);
        }
        return (rewards.MoveToOuterDisposeScope(), h.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// Pad id of a Hugging Face LlamaForSequenceClassification reward model; when set, each row is read at its last
    /// token that is not the pad (HF's rule, which matters when the pad id is also the end-of-turn id), else at length − 1.
    /// </summary>
    public int? PadTokenId { get; init; }

    /// <summary>The index in <paramref name="ids"/> (length ≥ 1) that <see cref="LastTokenIndex"/> reads the reward at.</summary>
    internal int LastToken(int[] ids)
    {
        if (PadTokenId is not { } pad) return ids.Length - 1;
        for (var t = ids.Length - 1; t >= 0; t--)
            if (ids[t] != pad) return t;
        return 0; // all pads: argmax of all zeros
    }

    /// <summary>(B,) int64 index of the token each row's reward is read at.</summary>
    private Tensor LastTokenIndex(Tensor inputIds, Tensor lengths)
    {
        if (PadTokenId is not { } pad) return lengths - 1;
        var position = arange(inputIds.shape[1], dtype: ScalarType.Int64, device: inputIds.device).unsqueeze(0); // (1, T)
        var real = inputIds.ne(pad).logical_and(position.lt(lengths.unsqueeze(1)));                               // (B, T)
        return (position * real.to_type(ScalarType.Int64)).argmax(-1);                                             // (B,)
    }

    /// <summary>
    /// log π(response | prompt) (B,): the backbone LM's log-probs of the ids at positions responseStart ≤ t &lt; length,
    /// each predicted from the hidden state before it.
    /// </summary>
    public Tensor ResponseLogProbs(Tensor hidden, Tensor inputIds, Tensor lengths, Tensor responseStarts)
    {
        using var scope = NewDisposeScope();
        var T = inputIds.shape[1];
        if (T < 2) return zeros(inputIds.shape[0], device: hidden.device).MoveToOuterDisposeScope();
        var logp = F.log_softmax(Backbone.Head(hidden[.., ..^1]).to_type(ScalarType.Float32), -1); // (B, T-1, V): position t predicts id t+1
        var picked = logp.gather(-1, inputIds[.., 1..].unsqueeze(-1)).squeeze(-1);                  // (B, T-1)
        var position = arange(1, T, dtype: ScalarType.Int64, device: hidden.device).unsqueeze(0);   // (1, T-1) of the predicted id
        var inResponse = position.ge(responseStarts.unsqueeze(1)).logical_and(position.lt(lengths.unsqueeze(1)));
        return (picked * inResponse.to_type(ScalarType.Float32)).sum(1).MoveToOuterDisposeScope();
    }

    /// <summary>Right-pads <paramref name="sequences"/> into (ids (B, T), lengths (B,)) on <paramref name="device"/>.</summary>
    public static (Tensor Ids, Tensor Lengths) Collate(IReadOnlyList<int[]> sequences, int maxPositions, Device device)
    {
        if (sequences.Count == 0) throw new ArgumentException("no sequences to collate", nameof(sequences));
        var T = 0;
        for (var i = 0; i < sequences.Count; i++)
        {
            var n = sequences[i]?.Length ?? 0;
            if (n == 0) throw new ArgumentException($"sequence {i} is empty, expected at least one token", nameof(sequences));
            if (n > maxPositions) throw new ArgumentException($"sequence {i} has {n} tokens, max_position_embeddings is only {maxPositions}", nameof(sequences));
            T = Math.Max(T, n);
        }
        var ids = new long[sequences.Count * T];
        var lengths = new long[sequences.Count];
        for (var i = 0; i < sequences.Count; i++)
        {
            var s = sequences[i];
            for (var t = 0; t < s.Length; t++) ids[i * T + t] = s[t];
            lengths[i] = s.Length;
        }
        return (tensor(ids, [sequences.Count, T], device: device), tensor(lengths, device: device));
    }

    /// <summary>Rewards of token sequences (each a full templated prompt + response), in input order, in batches of <paramref name="batchSize"/>.</summary>
    public float[] Score(IReadOnlyList<int[]> sequences, int batchSize = 16) => Score(sequences, null, batchSize);

    /// <summary>
    /// As <see cref="Score(IReadOnlyList{int[]}, int)"/>, with each sequence's response start (the prompt's length),
    /// which the likelihood term needs (<see cref="LikelihoodWeight"/> &gt; 0).
    /// </summary>
    public float[] Score(IReadOnlyList<int[]> sequences, IReadOnlyList<int>? responseStarts, int batchSize = 16)
    {
        ArgumentNullException.ThrowIfNull(sequences);
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "expected >= 1");
        if (responseStarts is not null)
        {
            if (responseStarts.Count != sequences.Count)
                throw new ArgumentException($"{responseStarts.Count} response starts for {sequences.Count} sequences, expected one each", nameof(responseStarts));
            for (var i = 0; i < sequences.Count; i++)
                if (responseStarts[i] < 1 || responseStarts[i] > (sequences[i]?.Length ?? 0))
                    throw new ArgumentException($"sequence {i}: response starts at {responseStarts[i]}, expected 1..{sequences[i]?.Length ?? 0} (after at least the bos)", nameof(responseStarts));
        }
        else if (LikelihoodWeight > 0)
            throw new ArgumentException($"this reward model adds {LikelihoodWeight}·log π(response | prompt) ({LikelihoodWeightKey}); pass each sequence's response start, or score chat messages", nameof(responseStarts));
        var result = new float[sequences.Count];
        if (sequences.Count == 0) return result;
        if (CpuRewards.Score(this, sequences, responseStarts) is { } fast) return fast;
        var wasTraining = training;
        eval();
        try
        {
            using var _ = no_grad();
            // Length-sorted batches waste less compute on padding; results go back to input order.
            var order = Enumerable.Range(0, sequences.Count).OrderBy(i => sequences[i]?.Length ?? 0).ToArray();
            for (var start = 0; start < order.Length; start += batchSize)
            {
                using var scope = NewDisposeScope();
                var idx = order.Skip(start).Take(batchSize).ToArray();
                var (ids, lengths) = Collate(idx.Select(i => sequences[i]).ToArray(), Config.MaxPositionEmbeddings, Device);
                var starts = responseStarts is null ? null : tensor(idx.Select(i => (long)responseStarts[i]).ToArray(), device: Device);
                var r = forward(ids, lengths, starts).cpu().data<float>().ToArray();
                for (var j = 0; j < idx.Length; j++) result[idx[j]] = r[j];
            }
        }
        finally { train(wasTraining); }
        return result;
    }

    /// <summary>Rewards of chat responses: each is templated as prompt + response + eot and scored at the eot.</summary>
    public float[] Score(IReadOnlyList<(IReadOnlyList<ChatMessage> prompt, string response)> items, int batchSize = 16)
    {
        ArgumentNullException.ThrowIfNull(items);
        var template = new ChatTemplate(Tokenizer ?? throw new InvalidOperationException("this reward model has no tokenizer; score token ids instead or load it from a checkpoint with tokenizer files"));
        var encoded = items.Select(x => template.EncodeExample(x.prompt, x.response)).ToArray();
        return Score(encoded.Select(e => e.Ids).ToArray(), encoded.Select(e => e.PromptLength).ToArray(), batchSize);
    }

    /// <summary>Hash of the checkpoint this RM was loaded from or last saved to; null for an unsaved RM. Recorded in rejection-sampling provenance.</summary>
    public string? CheckpointHash { get; internal set; }

    /// <summary>
    /// A new RM from a policy checkpoint (Llama 2 and 3 initialise the RM from the pretrained or chat checkpoint):
    /// its decoder and tokenizer, and a head drawn from N(0, initializer_range) after seeding torch with <paramref name="seed"/>.
    /// </summary>
    public static RewardModel FromPolicy(string policyDir, Device? device = null, int seed = 0, double likelihoodWeight = 0)
    {
        var loaded = Checkpoint.Load(policyDir, device);
        if (loaded.Metadata.TryGetValue(KindKey, out var kind) && kind == KindValue)
            throw new ArgumentException($"{policyDir}: is a reward model checkpoint ({KindKey}={kind}), expected a policy; use RewardModel.Load", nameof(policyDir));
        manual_seed(seed);
        return new RewardModel(loaded.Model, loaded.Tokenizer, likelihoodWeight: likelihoodWeight);
    }

    /// <summary>
    /// Writes an RM checkpoint that Hugging Face loads as <c>LlamaForSequenceClassification</c>: <c>config.json</c> says
    /// that architecture with <c>num_labels: 1</c> and the tokenizer's <c>pad_token_id</c> (HF reads the score at the last
    /// token that is not the pad), the tensors are <c>model.*</c> and <c>score.weight</c> [1, hidden]. metadata.json
    /// holds <c>kind=reward_model</c> and <c>likelihood_weight</c> λ. With λ &gt; 0 the reward is
    /// score(h_last) + λ·Σ log π(response id | prefix), π being <c>LlamaForCausalLM</c> loaded from the same directory,
    /// so an untied <c>lm_head.weight</c> is stored too (HF's classifier skips it with a warning). Returns the hash.
    /// </summary>
    public string Save(string dir, IReadOnlyDictionary<string, string>? metadata = null, CheckpointSaveOptions? options = null)
    {
        var meta = new Dictionary<string, string>(metadata ?? new Dictionary<string, string>())
        {
            [KindKey] = KindValue,
            [LikelihoodWeightKey] = LikelihoodWeight.ToString("R", CultureInfo.InvariantCulture),
        };
        var config = Config with
        {
            Architectures = [Checkpoint.SequenceClassification],
            NumLabels = 1,
            PadTokenId = Tokenizer?.PadId ?? Config.PadTokenId,
        };
        using (no_grad())
        using (var weight = score.weight!.detach().cpu())
            Checkpoint.Save(dir, Backbone, Tokenizer, new Dictionary<string, Tensor> { [ScoreWeightName] = weight }, meta,
                (options ?? CheckpointSaveOptions.Default) with { Config = config });
        return CheckpointHash = Checkpoint.ComputeHash(dir);
    }

    /// <summary>
    /// Loads an RM checkpoint written by <see cref="Save"/>, or an HF <c>LlamaForSequenceClassification</c> directory
    /// (λ = 0); throws if the directory is a policy or lacks <c>score.weight</c>.
    /// </summary>
    public static RewardModel Load(string dir, Device? device = null)
    {
        var loaded = Checkpoint.Load(dir, device);
        var classifier = loaded.Config.Architectures.Contains(Checkpoint.SequenceClassification);
        if ((!loaded.Metadata.TryGetValue(KindKey, out var kind) || kind != KindValue) && !classifier)
            throw new InvalidDataException($"{dir}: metadata {KindKey} is {(kind is null ? "missing" : $"'{kind}'")}, expected '{KindValue}' (or config.json architectures [{Checkpoint.SequenceClassification}]); this is not a reward model checkpoint");
        if (!loaded.Extra.TryGetValue(ScoreWeightName, out var weight))
            throw new InvalidDataException($"{Path.Combine(dir, Checkpoint.WeightsFile)}: missing extra tensor '{ScoreWeightName}' (expected shape [1, {loaded.Config.HiddenSize}])");
        if (weight.shape is not [1, var hidden] || hidden != loaded.Config.HiddenSize)
            throw new InvalidDataException($"{Path.Combine(dir, Checkpoint.WeightsFile)}: tensor '{ScoreWeightName}' has shape [{string.Join(", ", weight.shape)}], expected [1, {loaded.Config.HiddenSize}] (num_labels 1: one scalar reward)");
        double likelihoodWeight = 0; // checkpoints from before the likelihood term are the head alone
        if (loaded.Metadata.TryGetValue(LikelihoodWeightKey, out var text)
            && (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out likelihoodWeight) || !(likelihoodWeight >= 0) || !double.IsFinite(likelihoodWeight)))
            throw new InvalidDataException($"{Path.Combine(dir, Checkpoint.MetadataFile)}: {LikelihoodWeightKey} is '{text}', expected a finite number >= 0");
        if (likelihoodWeight > 0 && !loaded.HasLmHead)
            throw new InvalidDataException($"{dir}: {LikelihoodWeightKey} is {text}, but the directory has no lm_head.weight to compute log π(response | prompt) with");
        // HF scores a classifier at each row's last token that is not pad_token_id; PostTrain's own RMs score at the last real token.
        return new RewardModel(loaded.Model, loaded.Tokenizer, weight, likelihoodWeight) { CheckpointHash = loaded.Hash, PadTokenId = classifier ? loaded.Config.PadTokenId : null };
    }
}
