using System.Runtime.InteropServices;
using PostTrain.Model;
using PostTrain.Model.Inference;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace PostTrain.Sampling;

/// <summary>
/// Continuous batching over a fixed number of slots (rows of one KV cache). A prompt is admitted when N slots are free:
/// it is prefilled once (with the other prompts admitted at the same step) and its keys and values are copied into its N
/// slots. Every step decodes one token in every slot, each slot at its own
/// position; a finished row frees its slot for the next prompt, so the batch stays full over the whole prompt list.
/// Sampling stays on the logits' tensor (temperature, top-k/top-p, then <see cref="InverseCdf"/> with one counter-based uniform
/// per row); the host reads one finished code per slot per step and the tokens of rows that finished. On the CPU a float32
/// model's prefills and one-token forwards run through <see cref="CpuForward"/>.
/// </summary>
internal sealed class SlotDecoder : IDisposable
{
    private const byte StoppedBit = 1, LimitBit = 2;

    private readonly LlamaForCausalLM _model;
    private readonly SamplingOptions _o;
    private readonly int _vocab, _n, _maxLength;
    private readonly Device _device;
    private readonly Tensor? _stops;
    private readonly Tensor _keyIndex; // (L,) 0..L−1, preallocated for the per-step mask
    private readonly CpuForward? _fast; // prefill and the one-token forward without libtorch's per-op overhead, where it applies
    private readonly bool _hostChoice;
    // With CpuForward and the host choice, each row's next token is chosen inside the step, by the thread that computed its
    // logits (RowLogits); only rows whose logits came from a prefill since (fresh) are chosen in HostStep. The per-slot
    // record (tokens, log-probs, budgets, the finished check) then lives in host arrays: a decode step makes no libtorch
    // call, whose few microseconds each were a fifth of a one-row step on the small preset.
    private readonly bool _fused;
    private readonly RowLogits? _chooseRow;
    private long[] _nextToken;
    private float[] _nextLogProb;
    private bool[] _fresh;
    private long[] _hostTokens = [];   // (S, MaxNewTokens), fused only
    private float[] _hostLogProbs = [];
    private int[] _hostLimit = [];
    private readonly bool[]? _isStop;  // by token id, fused only
    private Tensor _tokenIds;          // (S,) int64: the step's tokens, written in place

    // Per slot, on the device: the key of its random stream, the next token's position, tokens generated so far, budget.
    private Tensor _positions, _steps, _limits, _logits, _tokens, _logProbs;
    private KvCache _cache;

    // Per slot, on the host: the global row (prompt · N + sample) it decodes, or −1 when free; its position and step.
    private int[] _row;
    private int[] _hostPosition;
    private ulong[] _hostKey; // its random stream and its step (the token's index in its response): InverseCdf's counter
    private int[] _hostStep;
    // Per slot, for CpuForward: a live slot of the same prompt whose copy of the prompt's keys and values it reads, and the
    // prompt's length (0 when the slot reads only its own). Every slot of a prompt holds the same copy, so reading one of them
    // is the same arithmetic on the same bytes; it keeps the prefix in cache while the prompt's N rows attend over it.
    private int[] _sharedRow, _sharedLength;

    public SlotDecoder(LlamaForCausalLM model, SamplingOptions options, int vocab, IReadOnlyList<int> stopIds, int slots, int maxLength)
    {
        (_model, _o, _vocab, _n, _maxLength) = (model, options, vocab, options.SamplesPerPrompt, maxLength);
        _device = model.model.embed_tokens.weight!.device;
        _stops = stopIds.Count > 0 ? tensor(stopIds.Select(i => (long)i).ToArray(), device: _device).DetachFromDisposeScope() : null;
        _keyIndex = arange(maxLength, dtype: ScalarType.Int64, device: _device).DetachFromDisposeScope();
        _cache = new KvCache(model.Config, slots, maxLength, _device);
        // As many threads as libtorch's intra-op pool: the step itself makes no libtorch call, so they split the rows between them.
        // A row per slot for decoding, and at least a prompt's worth (within the row budget) for prefill: a decoder with
        // few slots would otherwise hand its prompts to libtorch's forward.
        if (CpuForward.WhyNot(model, maxLength) is null)
            _fast = new CpuForward(model, Math.Max(slots, Math.Min(maxLength, CpuForward.BudgetRows(model.Config))), maxLength, get_num_threads());
        // Plain or greedy sampling on CPU logits: the token and its log-probability from one C# pass (no libtorch call over the vocabulary).
        _logits = zeros([slots, vocab], device: _device).DetachFromDisposeScope();
        _hostChoice = (_o.Temperature == 0 || (_o.Temperature == 1 && _o.TopK == 0 && _o.TopP >= 1)) && InverseCdf.OnHost(_logits);
        _fused = _hostChoice && _fast is not null;
        _positions = Long(slots);
        _steps = Long(slots);
        _limits = Long(slots);
        _tokens = Long(slots, options.MaxNewTokens);
        _logProbs = zeros([slots, options.MaxNewTokens], device: _device).DetachFromDisposeScope();
        _row = Enumerable.Repeat(-1, slots).ToArray();
        _hostPosition = new int[slots];
        _hostKey = new ulong[slots];
        _hostStep = new int[slots];
        _sharedRow = Enumerable.Range(0, slots).ToArray();
        _sharedLength = new int[slots];
        (_nextToken, _nextLogProb, _fresh) = (new long[slots], new float[slots], new bool[slots]);
        _tokenIds = Long(slots);
        if (_fused)
        {
            (_hostTokens, _hostLogProbs, _hostLimit) = (new long[slots * options.MaxNewTokens], new float[slots * options.MaxNewTokens], new int[slots]);
            if (stopIds.Count > 0)
            {
                _isStop = new bool[vocab];
                foreach (var id in stopIds) if ((uint)id < (uint)vocab) _isStop[id] = true;
            }
            _chooseRow = (row, logits) =>
                _nextToken[row] = InverseCdf.ChooseRow(logits[.._vocab], _hostKey[row], _hostStep[row], _o.Temperature == 0, out _nextLogProb[row]);
        }
    }

    public int Slots => _row.Length;

    /// <summary>Where the time went, for the caller's statistics: prefills (admission included), token selection, forwards.</summary>
    public double PrefillSeconds { get; private set; }
    public double SelectSeconds { get; private set; }
    public double ForwardSeconds { get; private set; }

    /// <summary>One-token steps decoded, and how many of them <see cref="CpuForward"/> ran.</summary>
    public long DecodeSteps { get; private set; }
    public long FastDecodeSteps => _fast?.Steps ?? 0;

    /// <summary>Prompts whose prefill <see cref="CpuForward"/> ran.</summary>
    public long FastPrefillPrompts { get; private set; }

    /// <summary>
    /// Decodes every prompt's N rows; <paramref name="onPromptDone"/> gets a prompt's index and its N sequences as soon as its
    /// last row finishes. Prompts are admitted in the given order.
    /// </summary>
    public void Run(IReadOnlyList<TokenPrompt> prompts, Action<int, SampledSequence[]> onPromptDone, CancellationToken cancellationToken)
    {
        var total = prompts.Count * _n;
        var results = new SampledSequence?[total];
        var remaining = Enumerable.Repeat(_n, prompts.Count).ToArray();
        var next = 0; // next prompt to admit
        next = Admit(prompts, next);
        var active = _row.Count(r => r >= 0);
        while (active > 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var (token, codes) = _fused ? HostStep() : SampleStep();
            SelectSeconds += clock.Elapsed.TotalSeconds;
            var finished = Enumerable.Range(0, Slots).Where(s => _row[s] >= 0 && codes[s] != 0).ToArray();
            if (finished.Length > 0) Collect(prompts, finished, codes, results, remaining, onPromptDone);
            active -= finished.Length;
            if (active == 0 && next == prompts.Count) break;
            clock.Restart();
            if (active > 0) Forward(token);
            ForwardSeconds += clock.Elapsed.TotalSeconds;
            next = Admit(prompts, next);
            active = _row.Count(r => r >= 0);
            if (next == prompts.Count && active > 0 && active <= Slots / 2 && Slots > _n) Shrink();
        }
    }

    /// <summary>Samples every slot's next token from its logits and records it; returns the tokens and each slot's finished code.</summary>
    private (Tensor Token, byte[] Codes) SampleStep()
    {
        var usable = _logits;
        Tensor token, chosen;
        if (_hostChoice) (token, chosen) = InverseCdf.ChooseWithLogProbs(usable, _hostKey, _hostStep, greedy: _o.Temperature == 0); // (S,), (S,)
        else
        {
            var logProbs = F.log_softmax(usable, -1);                                    // (S, V) the model's own distribution
            if (_o.Temperature == 0) token = usable.argmax(-1);                         // (S,) greedy
            else
            {
                var scaled = _o.Temperature == 1 ? usable : usable / _o.Temperature;
                if (_o.TopK > 0 || _o.TopP < 1) scaled = Sampler.Filter(scaled, _o.TopK, _o.TopP);
                token = InverseCdf.Choose(scaled, _hostKey, _hostStep);                  // (S,) a sample of softmax(scaled)
            }
            chosen = logProbs.gather(1, token.unsqueeze(1)).squeeze(1);
        }
        var column = _steps.clamp_max(_o.MaxNewTokens - 1).unsqueeze(1);             // (S, 1) free slots write harmlessly
        _tokens.scatter_(1, column, token.unsqueeze(1));
        _logProbs.scatter_(1, column, chosen.unsqueeze(1));
        _steps.add_(1);
        for (var s = 0; s < Slots; s++) _hostStep[s]++;
        var code = _steps.ge(_limits).to_type(ScalarType.Byte).mul_(LimitBit);
        if (_stops is not null) code.bitwise_or_(token.isin(_stops, false, false).to_type(ScalarType.Byte));
        return (token, code.cpu().data<byte>().ToArray());
    }

    /// <summary>
    /// <see cref="SampleStep"/> on the host, fused: the tokens the last step chose in its threads (and the choice for the
    /// rows prefilled since) recorded in the host arrays, each slot's finished code as the tensors would give it.
    /// </summary>
    private (Tensor Token, byte[] Codes) HostStep()
    {
        var logits = MemoryMarshal.Cast<byte, float>(_logits.bytes);
        var ids = MemoryMarshal.Cast<byte, long>(_tokenIds.bytes);
        var (width, codes) = (_o.MaxNewTokens, new byte[Slots]);
        for (var s = 0; s < Slots; s++)
        {
            if (_fresh[s])
            {
                _chooseRow!(s, logits.Slice(s * _vocab, _vocab));
                _fresh[s] = false;
            }
            var at = s * width + Math.Min(_hostStep[s], width - 1); // free slots write harmlessly
            (_hostTokens[at], _hostLogProbs[at], ids[s]) = (_nextToken[s], _nextLogProb[s], _nextToken[s]);
            _hostStep[s]++;
            codes[s] = (byte)((_hostStep[s] >= _hostLimit[s] ? LimitBit : 0) | (_isStop is not null && _isStop[_nextToken[s]] ? StoppedBit : 0));
        }
        return (_tokenIds, codes);
    }

    /// <summary>Feeds each slot's sampled token at its own position; the logits for the next step replace <see cref="_logits"/> in place
    /// (or, fused, each row's next token is chosen from them in the step).</summary>
    private void Forward(Tensor token)
    {
        DecodeSteps++;
        if (_fast is not null)
        {
            _fast.Forward(token, _hostPosition, _cache, into: _fused ? null : _logits, _sharedRow, _sharedLength, _chooseRow);
            Advance();
            return;
        }
        var visible = _hostPosition.Max() + 1;
        // Boolean: an additive (0 / −∞) mask made once per step measured no faster, and slower on the small preset (bench profile.decode).
        var mask = _keyIndex.narrow(0, 0, visible).unsqueeze(0).le(_positions.unsqueeze(1)).view(Slots, 1, 1, visible); // (S, 1, 1, L')
        _cache.WriteAtRowPositions(_positions, visible);
        var logits = _model.forward(token.unsqueeze(1), _positions.unsqueeze(1), mask, _cache);  // (S, 1, V')
        _cache.WriteAtRowPositions(null, 0);
        _logits.copy_(logits.select(1, 0).narrow(1, 0, _vocab));
        Advance();
    }

    private void Advance()
    {
        if (!_fused) _positions.add_(1).clamp_max_(_maxLength - 1); // only free slots ever reach the end (fused: the host's alone)
        for (var s = 0; s < Slots; s++) _hostPosition[s] = Math.Min(_hostPosition[s] + 1, _maxLength - 1);
    }

    /// <summary>Copies the finished rows' tokens to the host, frees their slots, and hands out prompts whose N rows are all done.</summary>
    private void Collect(IReadOnlyList<TokenPrompt> prompts, int[] finished, byte[] codes, SampledSequence?[] results, int[] remaining,
        Action<int, SampledSequence[]> onPromptDone)
    {
        var width = _o.MaxNewTokens;
        Tensor? index = null;
        long[] counts, tokens;
        float[] logProbs;
        if (_fused) (counts, tokens, logProbs) = (finished.Select(s => (long)_hostStep[s]).ToArray(), _hostTokens, _hostLogProbs); // token rows by slot
        else
        {
            // One host copy of the finished rows, sliced here: per-row tensor views cost a few libtorch calls each.
            index = tensor(finished.Select(s => (long)s).ToArray(), device: _device);
            (counts, tokens, logProbs) = (_steps.index_select(0, index).cpu().data<long>().ToArray(),
                _tokens.index_select(0, index).cpu().data<long>().ToArray(), _logProbs.index_select(0, index).cpu().data<float>().ToArray());
        }
        for (var i = 0; i < finished.Length; i++)
        {
            var s = finished[i];
            var at = _fused ? s : i;
            var (p, k) = (_row[s] / _n, _row[s] % _n);
            var count = (int)counts[i];
            var ids = new int[count];
            for (var t = 0; t < count; t++) ids[t] = (int)tokens[at * width + t];
            results[_row[s]] = new SampledSequence(prompts[p].Id, k, ids, logProbs.AsSpan(at * width, count).ToArray(), (codes[s] & StoppedBit) != 0);
            _row[s] = -1;
            _hostPosition[s] = 0;
            _hostStep[s] = 0;
            Unshare(s);
            if (--remaining[p] == 0) onPromptDone(p, Enumerable.Range(0, _n).Select(j => results[p * _n + j]!).ToArray());
        }
        // A free slot keeps decoding garbage at position 0 until it is refilled: never past the cache, never read.
        if (index is null) return;
        _positions.index_fill_(0, index, 0);
        _steps.index_fill_(0, index, 0);
    }

    /// <summary>Slot <paramref name="s"/> is freed: the slots that read its copy of their prompt read the lowest live one of theirs.</summary>
    private void Unshare(int s)
    {
        if (_sharedRow[s] == s && _sharedLength[s] > 0) // only a prompt's source slot has readers: one scan per prompt
        {
            var first = -1;
            for (var r = 0; r < Slots; r++)
                if (r != s && _sharedRow[r] == s && _row[r] >= 0) _sharedRow[r] = first < 0 ? first = r : first;
        }
        (_sharedRow[s], _sharedLength[s]) = (s, 0);
    }

    /// <summary>Admits whole prompts (N slots each) while slots are free; returns the next prompt to admit.</summary>
    private int Admit(IReadOnlyList<TokenPrompt> prompts, int next)
    {
        var free = Enumerable.Range(0, Slots).Where(s => _row[s] < 0).ToArray();
        var count = Math.Min(free.Length / _n, prompts.Count - next);
        if (count == 0) return next;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var scope = NewDisposeScope();
        var admitted = prompts.Skip(next).Take(count).ToArray();
        var slots = free.Take(count * _n).ToArray();
        var slotIndex = tensor(slots.Select(s => (long)s).ToArray(), device: _device);
        // A prompt longer than the row budget (a long prompt over a big vocabulary) takes the reference forward.
        if (_fast is not null && admitted.All(p => p.Ids.Length <= _fast.Capacity)) PrefillFast(admitted, slots);
        else PrefillReference(admitted, slotIndex);
        var positions = new long[slots.Length];
        var limits = new long[slots.Length];
        for (var j = 0; j < slots.Length; j++)
        {
            var prompt = admitted[j / _n];
            positions[j] = prompt.Ids.Length;
            limits[j] = Math.Min(_o.MaxNewTokens, _model.Config.MaxPositionEmbeddings - prompt.Ids.Length);
            _row[slots[j]] = (next + j / _n) * _n + j % _n;
            _hostPosition[slots[j]] = prompt.Ids.Length;
            _fresh[slots[j]] = true;
            if (_fused) _hostLimit[slots[j]] = (int)limits[j];
            (_hostKey[slots[j]], _hostStep[slots[j]]) = (CounterRandom.StreamKey(_o.Seed, prompt.Id, j % _n), 0);
        }
        if (!_fused) // fused, the host arrays above are the slots' whole state
        {
            _positions.index_copy_(0, slotIndex, tensor(positions, device: _device));
            _limits.index_copy_(0, slotIndex, tensor(limits, device: _device));
            _steps.index_fill_(0, slotIndex, 0);
        }
        PrefillSeconds += clock.Elapsed.TotalSeconds;
        return next + count;
    }

    /// <summary>
    /// Each prompt through <see cref="CpuForward.Prefill"/> into its first slot (as many prompts per call as the rows hold),
    /// its keys and values then copied to its other slots, its last token's logits to all of them.
    /// </summary>
    private void PrefillFast(TokenPrompt[] admitted, int[] slots)
    {
        var logits = MemoryMarshal.Cast<byte, float>(_logits.bytes);
        var ids = admitted.Select(p => p.Ids).ToArray();
        FastPrefillPrompts += ids.Length;
        foreach (var (first, end) in CpuForward.Groups(ids, _fast!.Capacity))
        {
            _fast.Prefill(ids[first..end], Enumerable.Range(first, end - first).Select(p => slots[p * _n]).ToArray(), _cache);
            for (int p = first, row = 0; p < end; row += ids[p].Length, p++)
            {
                var own = slots[(p * _n)..((p + 1) * _n)];
                _fast.CopyCachePrefix(_cache, own[0], own[1..], ids[p].Length);
                foreach (var s in own) (_sharedRow[s], _sharedLength[s]) = (own[0], ids[p].Length);
                var last = _fast.Logits(row + ids[p].Length - 1)[.._vocab];
                foreach (var s in own) last.CopyTo(logits.Slice(s * _vocab, _vocab));
            }
        }
    }

    /// <summary>The reference model's prefill of every admitted prompt at once, then its keys, values and last logits into its N slots.</summary>
    private void PrefillReference(TokenPrompt[] admitted, Tensor slotIndex)
    {
        var count = admitted.Length;
        var length = admitted.Max(p => p.Ids.Length);
        // Right-padded: a causal mask alone is exact for every real token, and the pads' keys land past each prompt where
        // decoding overwrites them before any query can see them.
        var ids = new long[count * length];
        for (var p = 0; p < count; p++)
            for (var t = 0; t < admitted[p].Ids.Length; t++) ids[p * length + t] = admitted[p].Ids[t];
        using var prefill = new KvCache(_model.Config, count, length, _device);
        var hidden = _model.model.forward(tensor(ids, [count, length], device: _device), cache: prefill);      // (P, T, C)
        var last = tensor(admitted.Select(p => (long)p.Ids.Length - 1).ToArray(), device: _device);
        var lastHidden = hidden.gather(1, last.view(count, 1, 1).expand(count, 1, hidden.shape[2])).squeeze(1); // (P, C)
        var logits = _model.Head(lastHidden).narrow(1, 0, _vocab);                                            // (P, V)
        var promptOfSlot = arange(count, dtype: ScalarType.Int64, device: _device).repeat_interleave(_n);       // (P·N,)
        _cache.CopyRows(prefill, promptOfSlot, slotIndex, length);
        _logits.index_copy_(0, slotIndex, logits.index_select(0, promptOfSlot));
    }

    /// <summary>
    /// When the last prompts drain, half the slots or more are free: the busy slots move to the front of a smaller cache, so
    /// the tail of a run does not pay for empty rows.
    /// </summary>
    private void Shrink()
    {
        var busy = Enumerable.Range(0, Slots).Where(s => _row[s] >= 0).ToArray();
        var keep = tensor(busy.Select(s => (long)s).ToArray(), device: _device);
        _cache.Reorder(keep);
        Replace(ref _positions, keep);
        Replace(ref _steps, keep);
        Replace(ref _limits, keep);
        Replace(ref _logits, keep);
        Replace(ref _tokens, keep);
        Replace(ref _logProbs, keep);
        _row = busy.Select(s => _row[s]).ToArray();
        _hostPosition = busy.Select(s => _hostPosition[s]).ToArray();
        _hostKey = busy.Select(s => _hostKey[s]).ToArray();
        _hostStep = busy.Select(s => _hostStep[s]).ToArray();
        _nextToken = busy.Select(s => _nextToken[s]).ToArray();
        _nextLogProb = busy.Select(s => _nextLogProb[s]).ToArray();
        _fresh = busy.Select(s => _fresh[s]).ToArray();
        if (_fused)
        {
            var width = _o.MaxNewTokens;
            _hostTokens = busy.SelectMany(s => _hostTokens.AsSpan(s * width, width).ToArray()).ToArray();
            _hostLogProbs = busy.SelectMany(s => _hostLogProbs.AsSpan(s * width, width).ToArray()).ToArray();
            _hostLimit = busy.Select(s => _hostLimit[s]).ToArray();
        }
        Replace(ref _tokenIds, keep);
        var moved = new int[_sharedRow.Length];
        for (var i = 0; i < busy.Length; i++) moved[busy[i]] = i;
        _sharedRow = busy.Select(s => moved[_sharedRow[s]]).ToArray(); // a busy slot reads a busy slot (Unshare)
        _sharedLength = busy.Select(s => _sharedLength[s]).ToArray();
        keep.Dispose();
    }

    private static void Replace(ref Tensor t, Tensor rows)
    {
        var selected = t.index_select(0, rows).DetachFromDisposeScope();
        t.Dispose();
        t = selected;
    }

    private Tensor Long(params long[] shape) => zeros(shape, ScalarType.Int64, _device).DetachFromDisposeScope();

    public void Dispose()
    {
        _cache.Dispose();
        _fast?.Dispose();
        foreach (var t in new[] { _positions, _steps, _limits, _logits, _tokens, _logProbs, _keyIndex, _tokenIds }) t.Dispose();
        _stops?.Dispose();
    }
}
