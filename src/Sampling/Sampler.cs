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
/// Batched generation of N responses per prompt with the KV cache. Ragged prompts are left-padded and prefilled once;
/// each prompt's cache is then repeated for its N continuations (<see cref="KvCache.Reorder"/>), and all rows decode
/// together, each stopping at its own stop token. Finished rows leave the batch (the cache is compacted).
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
        var promptsPerBatch = Math.Max(1, _options.BatchSize / n);
        // Similar lengths batch together so little compute goes to padding; the output returns to input order.
        var order = Enumerable.Range(0, prompts.Count).OrderBy(i => prompts[i].Ids.Length).ToArray();
        var results = new SampledSequence[prompts.Count][];
        long prefill = 0, generated = 0;
        var clock = Stopwatch.StartNew();
        var wasTraining = _model.training;
        _model.eval();
        try
        {
            using var _ = no_grad();
            var done = 0;
            for (var start = 0; start < order.Length; start += promptsPerBatch)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var idx = order.Skip(start).Take(promptsPerBatch).ToArray();
                var batch = GenerateBatch(idx.Select(i => prompts[i]).ToArray(), cancellationToken);
                for (var j = 0; j < idx.Length; j++) results[idx[j]] = batch[j];
                prefill += idx.Sum(i => (long)prompts[i].Ids.Length);
                generated += batch.Sum(rows => rows.Sum(r => (long)r.TokenIds.Length));
                done += idx.Length;
                var secs = clock.Elapsed.TotalSeconds;
                progress?.Report(new StageProgress(StageName, done, prompts.Count, "prompt", new Dictionary<string, double>
                {
                    ["tokens_per_s"] = secs > 0 ? generated / secs : 0,
                    ["generated_tokens"] = generated,
                }));
            }
        }
        finally { _model.train(wasTraining); }
        var stats = new SamplingStats(prompts.Count, prompts.Count * n, prefill, generated, clock.Elapsed.TotalSeconds);
        _logger.LogInformation("sampled {Sequences} responses for {Prompts} prompts: {Tokens} tokens at {Rate:F1} tokens/s",
            stats.Sequences, stats.Prompts, stats.GeneratedTokens, stats.TokensPerSecond);
        return new GenerationResult(results.SelectMany(r => r).ToArray(), stats);
    }

    /// <summary>Prefills <paramref name="prompts"/> once, repeats each cache row N times and decodes; returns each prompt's N sequences.</summary>
    private SampledSequence[][] GenerateBatch(TokenPrompt[] prompts, CancellationToken cancellationToken)
    {
        using var scope = NewDisposeScope();
        var o = _options;
        var (P, N, V) = (prompts.Length, o.SamplesPerPrompt, _vocab);
        var device = _model.model.embed_tokens.weight!.device;
        var S = prompts.Max(p => p.Ids.Length);

        // Left-pad: every row's last prompt token sits at column S-1, so one decode step appends at the same cache slot.
        var ids = new long[P * S];
        var real = new bool[P * S];
        for (var p = 0; p < P; p++)
        {
            var pad = S - prompts[p].Ids.Length;
            for (var t = 0; t < prompts[p].Ids.Length; t++)
            {
                ids[p * S + pad + t] = prompts[p].Ids[t];
                real[p * S + pad + t] = true;
            }
        }
        var inputIds = tensor(ids, [P, S], device: device);
        var keyPadding = tensor(real, [P, S], device: device);                         // (P, S) true = real token
        var positions = AttentionMasks.PositionsFromPadding(keyPadding);                // (P, S)
        using var cache = new KvCache(_model.Config, P, S + o.MaxNewTokens, device);
        // Without padding (equal lengths, e.g. one prompt per batch) SDPA's own causal path needs no mask at all.
        var padded = real.Contains(false);
        var logits = _model.forward(inputIds, positions, padded ? AttentionMasks.Causal(keyPadding, S, S, device) : null, cache)[.., -1]; // (P, V)

        // Share each prompt's cache with its N continuations: rows p*N .. p*N+N-1 continue prompt p.
        var rowIndex = arange(P, dtype: ScalarType.Int64, device: device).repeat_interleave(N);  // (R,)
        cache.Reorder(rowIndex);
        logits = logits.index_select(0, rowIndex);                                      // (R, V)
        keyPadding = keyPadding.index_select(0, rowIndex);                              // (R, S)
        var lastPos = positions[.., -1].index_select(0, rowIndex);                      // (R,)

        var R = P * N;
        var rows = Enumerable.Range(0, R).ToArray();                                    // batch row -> global row
        var keys = new ulong[R];
        var limit = new int[R];
        var tokens = new List<int>[R];
        var logps = new List<float>[R];
        var stopped = new bool[R];
        for (var r = 0; r < R; r++)
        {
            var prompt = prompts[r / N];
            keys[r] = CounterRandom.StreamKey(o.Seed, prompt.Id, r % N);
            limit[r] = Math.Min(o.MaxNewTokens, _model.Config.MaxPositionEmbeddings - prompt.Ids.Length);
            tokens[r] = [];
            logps[r] = [];
        }
        var stops = new HashSet<int>(_stopIds);
        var noise = o.Temperature > 0 ? new float[R * V] : [];

        for (var step = 0; ; step++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var stepScope = NewDisposeScope();
            var alive = rows.Length;
            var usable = logits.shape[1] > V ? logits.narrow(1, 0, V) : logits;         // (A, V) decodable ids only
            var logProbs = F.log_softmax(usable, -1);                                   // (A, V) the model's own distribution
            Tensor next;
            if (o.Temperature == 0)
                next = usable.argmax(-1);                                               // (A,) greedy
            else
            {
                for (var a = 0; a < alive; a++) CounterRandom.Gumbel(keys[rows[a]], step, noise.AsSpan(a * V, V));
                var g = tensor(noise.AsSpan(0, alive * V).ToArray(), [alive, V], device: device);
                next = (Filter(usable / o.Temperature, o.TopK, o.TopP) + g).argmax(-1); // (A,) Gumbel-max sample
            }
            var chosenLogp = logProbs.gather(1, next.unsqueeze(1)).squeeze(1);          // (A,)
            var nextHost = next.cpu().data<long>().ToArray();
            var logpHost = chosenLogp.cpu().data<float>().ToArray();

            var keep = new List<long>(alive);
            for (var a = 0; a < alive; a++)
            {
                var r = rows[a];
                var tok = (int)nextHost[a];
                tokens[r].Add(tok);
                logps[r].Add(logpHost[a]);
                if (stops.Contains(tok)) stopped[r] = true;
                else if (tokens[r].Count < limit[r]) keep.Add(a);
            }
            if (keep.Count == 0) break;

            var (oldPadding, oldPos, oldLogits) = (keyPadding, lastPos, logits);
            var nextIn = next;
            if (keep.Count < alive)
            {
                // Finished rows leave the batch; the survivors' cache rows, padding, positions and inputs follow.
                var keepIdx = tensor(keep.ToArray(), device: device);
                cache.Reorder(keepIdx);
                keyPadding = keyPadding.index_select(0, keepIdx);
                lastPos = lastPos.index_select(0, keepIdx);
                nextIn = next.index_select(0, keepIdx);
                rows = keep.Select(a => rows[(int)a]).ToArray();
            }
            var A = rows.Length;
            keyPadding = cat([keyPadding, ones(A, 1, dtype: ScalarType.Bool, device: device)], 1); // (A, S + step + 1)
            lastPos = lastPos + 1;
            var mask = padded ? AttentionMasks.Causal(keyPadding, 1, keyPadding.shape[1], device) : null; // (A, 1, 1, S')
            var newLogits = _model.forward(nextIn.unsqueeze(1), lastPos.unsqueeze(1), mask, cache)[.., -1]; // (A, V)
            keyPadding = keyPadding.MoveToOuterDisposeScope();
            lastPos = lastPos.MoveToOuterDisposeScope();
            logits = newLogits.MoveToOuterDisposeScope();
            // The previous step's tensors live in the batch scope; free them now rather than at the batch's end.
            oldPadding.Dispose();
            oldPos.Dispose();
            oldLogits.Dispose();
        }

        var result = new SampledSequence[P][];
        for (var p = 0; p < P; p++)
        {
            result[p] = new SampledSequence[N];
            for (var k = 0; k < N; k++)
            {
                var r = p * N + k;
                result[p][k] = new SampledSequence(prompts[p].Id, k, tokens[r].ToArray(), logps[r].ToArray(), stopped[r]);
            }
        }
        return result;
    }

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
