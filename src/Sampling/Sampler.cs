using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using PostTrain.Model;
using PostTrain.Model.Checkpoints;
using PostTrain.Core.Progress;
using PostTrain.Model.Tokenization;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace PostTrain.Sampling;

/// <summary>
/// Batched generation of N responses per prompt with the KV cache, continuously batched (<see cref="SlotDecoder"/>): each
/// prompt is prefilled once and its cache copied to the slots of its N continuations; a row that stops frees its slot for
/// the next prompt's continuations, so the batch stays full. With N = 1 and greedy decoding it is the plain decoder that
/// <c>posttrain generate</c> and the pretrainer's evaluation use.
/// Randomness is per (seed, prompt id, sample index) stream (<see cref="CounterRandom"/>), so the responses do not
/// depend on the batch size, the prompt order or the shard a prompt runs in.
/// </summary>
public sealed class Sampler
{
    public const string StageName = "sample";

    private readonly LlamaForCausalLM _model;
    private readonly SamplingOptions _options;
    private readonly ChatTemplate? _template;
    private readonly ILogger _logger;
    private readonly int[] _stopIds;
    private readonly int _vocab;

    /// <param name="model">The policy; run in eval mode without gradients.</param>
    /// <param name="options">Sampling settings.</param>
    /// <param name="template">Needed by the chat-level <see cref="Sample"/>; its stop ids are the default stops.</param>
    /// <param name="samplerCheckpoint">Hash of <paramref name="model"/>'s checkpoint, recorded in provenance.</param>
    /// <param name="logger">Progress lines; null logs nothing.</param>
    public Sampler(LlamaForCausalLM model, SamplingOptions options, ChatTemplate? template = null, string? samplerCheckpoint = null, ILogger? logger = null)
    {
        _model = model ?? throw new ArgumentNullException(nameof(model));
        _options = (options ?? throw new ArgumentNullException(nameof(options))).Validate();
        _template = template;
        SamplerCheckpoint = samplerCheckpoint;
        _logger = logger ?? NullLogger.Instance;
        // A model's embedding may be padded past its tokenizer (Llama 3 style); ids the tokenizer cannot decode are never sampled.
        _vocab = Math.Min(model.Config.VocabSize, template?.Tokenizer.VocabSize ?? int.MaxValue);
        _stopIds = (options.StopIds ?? template?.StopIds ?? (model.Config.EosTokenId is int eos ? [eos] : [])).ToArray();
        foreach (var id in _stopIds)
            if (id < 0 || id >= model.Config.VocabSize)
                throw new ArgumentException($"stop id {id} is outside the vocabulary [0, {model.Config.VocabSize})", nameof(options));
    }

    /// <summary>
    /// A sampler over a policy checkpoint directory: its model on <paramref name="device"/>, its tokenizer's chat template
    /// (when the tokenizer has the Llama 3 specials) and its hash as the provenance's sampler checkpoint.
    /// </summary>
    public static Sampler FromCheckpoint(string dir, SamplingOptions options, Device? device = null, ILogger? logger = null)
    {
        var loaded = Checkpoint.Load(dir, device);
        var template = loaded.Tokenizer is { } tok && tok.TokenToId(SpecialTokens.StartHeader) is not null ? new ChatTemplate(tok) : null;
        return new Sampler(loaded.Model, options, template, loaded.Hash, logger);
    }

    public SamplingOptions Options => _options;
    public string? SamplerCheckpoint { get; }
    public IReadOnlyList<int> StopIds => _stopIds;

    /// <summary>Samples N responses per chat prompt and decodes them. Needs the template given to the constructor.</summary>
    public SamplingResult Sample(IReadOnlyList<SamplingPrompt> prompts, IProgress<StageProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(prompts);
        var template = _template ?? throw new InvalidOperationException("Sampler.Sample needs a ChatTemplate; pass one to the constructor or call Generate with token ids");
        var messages = new IReadOnlyList<ChatMessage>[prompts.Count];
        var tokenPrompts = new TokenPrompt[prompts.Count];
        for (var i = 0; i < prompts.Count; i++)
        {
            var p = prompts[i] ?? throw new ArgumentException($"prompt {i} is null", nameof(prompts));
            if (p.Messages is not { Count: > 0 }) throw new ArgumentException($"prompt {i} ({p.Id}) has no messages, expected at least one", nameof(prompts));
            messages[i] = _options.SystemPrompt is { } system && p.Messages[0].Role != ChatTemplate.SystemRole
                ? [ChatMessage.System(system), .. p.Messages]
                : p.Messages;
            tokenPrompts[i] = new TokenPrompt(p.Id, template.EncodePrompt(messages[i]).Ids);
        }
        var generated = Generate(tokenPrompts, progress, cancellationToken);
        var provenance = new SamplingProvenance(_options.Round, SamplerCheckpoint, _options.Seed, _options.Temperature, _options.TopP, _options.TopK);
        var byId = prompts.Select((p, i) => (p.Id, i)).ToDictionary(x => x.Id, x => x.i);
        var responses = generated.Sequences.Select(s => new SampledResponse(s.PromptId, messages[byId[s.PromptId]], s.SampleIndex,
            template.DecodeResponse(s.TokenIds), s.TokenIds, s.SumLogProb, s.Stopped, provenance)).ToArray();
        return new SamplingResult(responses, generated.Stats);
    }

    /// <summary>Samples N continuations per token prompt. Output is ordered by prompt (input order), then sample index.</summary>
    public GenerationResult Generate(IReadOnlyList<TokenPrompt> prompts, IProgress<StageProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(prompts);
        var maxPos = _model.Config.MaxPositionEmbeddings;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < prompts.Count; i++)
        {
            var p = prompts[i] ?? throw new ArgumentException($"prompt {i} is null", nameof(prompts));
            if (string.IsNullOrEmpty(p.Id)) throw new ArgumentException($"prompt {i} has an empty id", nameof(prompts));
            if (!seen.Add(p.Id)) throw new ArgumentException($"prompt {i}: id '{p.Id}' appears twice; ids key the random streams and must be unique", nameof(prompts));
            if (p.Ids is not { Length: > 0 }) throw new ArgumentException($"prompt {i} ({p.Id}) has no tokens", nameof(prompts));
            if (p.Ids.Length >= maxPos)
                throw new ArgumentException($"prompt {i} ({p.Id}) has {p.Ids.Length} tokens, expected fewer than max_position_embeddings {maxPos} to leave room for a response", nameof(prompts));
            foreach (var id in p.Ids)
                if (id < 0 || id >= _model.Config.VocabSize)
                    throw new ArgumentException($"prompt {i} ({p.Id}) has token id {id}, expected in [0, {_model.Config.VocabSize})", nameof(prompts));
        }

        var n = _options.SamplesPerPrompt;
        var maxLength = prompts.Count == 0 ? 1 : prompts.Max(p => p.Ids.Length + Limit(p));
        var (slots, limitedBy) = Admission(n, KvCache.BytesPerRow(_model.Config, maxLength));
        var results = new SampledSequence[prompts.Count][];
        long prefill = prompts.Sum(p => (long)p.Ids.Length), generated = 0;
        var clock = Stopwatch.StartNew();
        var wasTraining = _model.training;
        _model.eval();
        int done = 0, usedSlots = 0;
        double prefillSeconds = 0, selectSeconds = 0, forwardSeconds = 0, setupSeconds = 0;
        long decodeSteps = 0, fastDecodeSteps = 0, fastPrefills = 0;
        try
        {
            using var _ = inference_mode();
            var decoder = new SlotDecoder(_model, _options, _vocab, _stopIds, Math.Min(slots, Math.Max(n, prompts.Count * n)), maxLength);
            setupSeconds = clock.Elapsed.TotalSeconds;
            usedSlots = decoder.Slots;
            try
            {
                decoder.Run(prompts, (p, rows) =>
                {
                    results[p] = rows;
                    generated += rows.Sum(r => (long)r.TokenIds.Length);
                    done++;
                    var secs = clock.Elapsed.TotalSeconds;
                    progress?.Report(new StageProgress(StageName, done, prompts.Count, "prompt", new Dictionary<string, double>
                    {
                        ["tokens_per_s"] = secs > 0 ? generated / secs : 0,
                        ["generated_tokens"] = generated,
                    }));
                }, cancellationToken);
                (prefillSeconds, selectSeconds, forwardSeconds) = (decoder.PrefillSeconds, decoder.SelectSeconds, decoder.ForwardSeconds);
                (decodeSteps, fastDecodeSteps, fastPrefills) = (decoder.DecodeSteps, decoder.FastDecodeSteps, decoder.FastPrefillPrompts);
            }
            finally
            {
                var teardown = clock.Elapsed.TotalSeconds;
                decoder.Dispose();
                setupSeconds += clock.Elapsed.TotalSeconds - teardown;
            }
        }
        finally { _model.train(wasTraining); }
        var stats = new SamplingStats(prompts.Count, prompts.Count * n, prefill, generated, clock.Elapsed.TotalSeconds)
        {
            Slots = usedSlots, SlotsLimitedBy = usedSlots < slots ? SamplingStats.ByPrompts : limitedBy,
            PrefillSeconds = prefillSeconds, SelectSeconds = selectSeconds, ForwardSeconds = forwardSeconds, SetupSeconds = setupSeconds,
            DecodeSteps = decodeSteps, FastDecodeSteps = fastDecodeSteps, FastPrefillPrompts = fastPrefills,
            KvBytesPerSlot = KvCache.BytesPerRow(_model.Config, maxLength),
        };
        _logger.LogInformation("sampled {Sequences} responses for {Prompts} prompts: {Tokens} tokens at {Rate:F1} tokens/s ({Slots} slots by {LimitedBy}, {KvMiB:F2} MiB K/V each)",
            stats.Sequences, stats.Prompts, stats.GeneratedTokens, stats.TokensPerSecond, stats.Slots, stats.SlotsLimitedBy, stats.KvBytesPerSlot / 1048576.0);
        return new GenerationResult(results.SelectMany(r => r).ToArray(), stats);
    }

    /// <summary>
    /// The continuous batch's slots: whole prompts (N rows each) within <see cref="SamplingOptions.BatchSize"/> rows (at least one
    /// prompt, so a batch can exceed BatchSize when N does) and within <see cref="SamplingOptions.KvCacheBudgetBytes"/>.
    /// </summary>
    private (int Slots, string LimitedBy) Admission(int n, long bytesPerSlot)
    {
        var byBudget = _options.KvCacheBudgetBytes / bytesPerSlot / n;
        if (byBudget < 1)
            throw new ArgumentException($"SamplingOptions.KvCacheBudgetBytes is {_options.KvCacheBudgetBytes}, expected at least {n * bytesPerSlot} " +
                $"to hold one prompt's {n} rows of {bytesPerSlot} K/V bytes each");
        var byBatch = Math.Max(1, _options.BatchSize / n);
        return byBudget < byBatch ? ((int)byBudget * n, SamplingStats.ByMemoryBudget) : (byBatch * n, SamplingStats.ByBatchSize);
    }

    /// <summary>Tokens a response to <paramref name="prompt"/> may have: the budget, cut where the model runs out of positions.</summary>
    private int Limit(TokenPrompt prompt) => Math.Min(_options.MaxNewTokens, _model.Config.MaxPositionEmbeddings - prompt.Ids.Length);

    /// <summary>Top-k then top-p filtering of scaled logits (A, V): dropped ids get −∞. The most likely id always survives.</summary>
    public static Tensor Filter(Tensor scaledLogits, int topK, double topP)
    {
        using var scope = NewDisposeScope();
        var x = scaledLogits;
        var V = x.shape[^1];
        if (topK > 0 && topK < V)
        {
            var kth = x.topk(topK, -1).values[.., (topK - 1)..topK];                  // (A, 1)
            x = x.masked_fill(x.lt(kth), double.NegativeInfinity);
        }
        if (topP < 1)
        {
            var (sorted, index) = x.sort(-1, descending: true);                        // (A, V)
            var probs = F.softmax(sorted, -1);
            var before = probs.cumsum(-1) - probs;                                     // mass strictly above each id
            var drop = before.ge(topP);                                                // the first id has 0 before it: kept
            sorted = sorted.masked_fill(drop, double.NegativeInfinity);
            x = full_like(x, double.NegativeInfinity).scatter(-1, index, sorted);
        }
        return x.MoveToOuterDisposeScope();
    }
}
