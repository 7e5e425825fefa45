using System.Collections;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PostTrain.Model.Inference;

/// <summary>A row of a step and its logits (the step's buffer: read them before the call returns).</summary>
public delegate void RowLogits(int row, ReadOnlySpan<float> logits);

/// <summary>
/// The inference forward of a float32 model on the CPU, computing what <see cref="LlamaForCausalLM.forward"/> computes through
/// a <see cref="KvCache"/>: one continuous-batching decode step (<see cref="Forward"/>: one token per row, each row at its own
/// position), or whole sequences at once (<see cref="Prefill"/>: every token a row, each sequence in its own cache row).
/// Why it exists: on the small presets a step is some 250 tiny libtorch ops (RMSNorm, RoPE, views, the cache scatter,
/// per-head batched matmuls, softmax) whose per-op overhead cost twice what the GEMMs do (bench profile.decode), and at
/// these shapes libtorch's GEMMs themselves ran at a quarter of the machine's ceiling. Here nothing goes to libtorch: the
/// projections are <see cref="PackedMatrix"/> micro-kernels on weights packed once per decoder (q|k|v as one matrix,
/// gate|up as one), and the embedding gather, RMSNorm fused with the residual add, RoPE, the K/V cache write, attention
/// over each row's own cache prefix and SiLU·up are C# loops (AVX2) over the tensors' memory. A row's step never reads
/// another row, so each thread runs the whole step, every layer, for its own rows: no barrier between ops, and no OpenMP.
/// A step of too few rows for that splits each product by columns instead, with a handover between ops (<see cref="ByPanels"/>).
/// A prefill is the same step over a sequence's tokens in order: each token's row writes its key and value at its position
/// before the next row attends over them, so a chunk of rows never splits a sequence.
/// The reference model in <c>src/Model/Llama.cs</c> stays the definition: training and every case this class does not
/// cover (see <see cref="WhyNot"/>) use it, and the tests hold the two to the same logits.
/// </summary>
public sealed unsafe class CpuForward : IDisposable
{
    private readonly int _c, _nh, _nkv, _hd, _group, _inter, _vocab, _layers, _qkvWidth, _maxLength, _threads;
    private readonly float _eps, _scale;
    private readonly PackedMatrix[] _wqkv, _wo, _wgu, _wdown;
    private readonly PackedMatrix _head;
    private readonly Tensor _embed;                      // (V, C)
    private readonly List<Tensor> _owned = [];
    private readonly float[][] _normIn, _normPost;
    private readonly float[] _normFinal, _cos, _sin;     // (maxLength, hd/2) rotary tables, attention scaling included
    private readonly Tensor _logits;
    private readonly float* _px, _ph, _pqkv, _patt, _pproj, _pgu, _pact, _plogits, _pembed;
    private const MethodImplOptions Hot = MethodImplOptions.AggressiveOptimization; // row loops: no slow tier-0 code on the first steps
    [ThreadStatic] private static float[]? t_scores;      // per thread: two heads' scores over the cache
    [ThreadStatic] private static float[]? t_row;         // per thread: a copy of one row's logits

    // The step being run, read by every thread.
    private int _rows;
    private long* _tokens;
    private int[] _positions = [];
    private int[] _cacheRows;                            // per row: the cache row it writes and reads
    private readonly int[] _identity;                    // a decode step's rows: row r is cache row r
    // Per row of a decode step: its first _sharedLength[r] positions are read from cache row _sharedRow[r], which holds the
    // same keys and values there (a prompt's prefix, copied into each of its N slots). Reading one copy instead of N keeps the
    // prefix in L1/L2 while the prompt's rows attend over it: 8-15% a step at 100-200-token prompts, nothing at 32.
    private int[]? _sharedRow, _sharedLength;
    private RowLogits? _visit;
    private int[] _bounds = [];                          // chunk i is rows _bounds[i] .. _bounds[i + 1]
    private readonly Tensor _prefillTokens;
    private readonly nint[] _keys, _values;              // per layer: the cache's keys and values, each (R, nkv, L, hd)
    private Action<int, int> _work = (_, _) => { };
    // Panel mode (StepByPanels): the layer and product under way, and the row-wise steps as delegates made once.
    private bool _byPanels;
    private int _layer;
    private PackedMatrix? _product;
    private int _pieces;
    private float* _px0, _py0;
    private long _ldx, _ldy;
    private readonly Action<int> _panelPiece;
    private readonly Action<int, int> _embedNorm, _attention, _postNorm, _swiGlu, _nextNorm, _visitRows;
    private readonly Action<int> _chunk;
    private readonly Action<int, int> _step, _gemms;
    private readonly ChunkTeam _team;
    // Rows split into a few chunks per thread, claimed as threads come free: on a busy machine a descheduled worker's share
    // is taken over by the others. Each chunk reads every weight once, so chunks stay large enough to amortise that; and
    // weights past the caches are read from memory once per chunk, so a big model takes one chunk per thread (medium's
    // 100 MB at 384 rows: 68-73 ms a step against 76-80 with four chunks a thread and 93 with eight; small, 3 MB, the same
    // 2.4-2.8 ms either way).
    private const int ChunksPerThread = 4, MinChunkRows = 24, MinPanelRows = 24;
    private const long CacheResidentWeightBytes = 16L << 20;
    private readonly int _chunksPerThread;

    /// <summary>Why <paramref name="model"/> cannot use this step (null when it can): a device, dtype or hook it does not cover.</summary>
    public static string? WhyNot(LlamaForCausalLM model, int maxLength)
    {
        var c = model.Config;
        if (model.parameters().Any(p => p.device_type != TorchSharp.DeviceType.CPU)) return "the model is not on the CPU";
        if (!Avx2.IsSupported || !Fma.IsSupported) return "the CPU has no AVX2 and FMA";
        if (model.parameters().Any(p => p.dtype != ScalarType.Float32)) return "the model is not float32";
        if (c.RopeScaling?.Kind == "dynamic" && maxLength > c.MaxPositionEmbeddings) return "dynamic RoPE past max_position_embeddings";
        foreach (var layer in model.model.layers)
        {
            Linear[] projections = [layer.self_attn.q_proj, layer.self_attn.k_proj, layer.self_attn.v_proj, layer.self_attn.o_proj,
                layer.mlp.gate_proj, layer.mlp.up_proj, layer.mlp.down_proj];
            if (projections.Any(HasHooks)) return "a projection has forward hooks (LoRA adapters)";
        }
        return null;
    }

    /// <summary>
    /// True when <paramref name="module"/> has hooks, which <see cref="nn.Module{T, TResult}.call"/> would run: TorchSharp keeps them
    /// in private dictionaries, read here by reflection. Unknown (a TorchSharp without those fields) counts as hooked.
    /// </summary>
    private static bool HasHooks(nn.Module module)
    {
        var found = false;
        for (var t = module.GetType(); t is not null; t = t.BaseType)
            foreach (var name in new[] { "pre_hooks", "post_hooks", "module_pre_hooks", "module_post_hooks" })
                if (t.GetField(name, BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public | BindingFlags.DeclaredOnly) is { } field)
                {
                    found = true;
                    if (field.GetValue(module) is ICollection { Count: > 0 }) return true;
                }
        return !found;
    }

    /// <param name="model">A model <see cref="WhyNot"/> accepts.</param>
    /// <param name="rows">Rows of the largest batch (the decoder's slots).</param>
    /// <param name="maxLength">The cache's positions.</param>
    /// <param name="threads">Threads that split the rows (each runs the whole step for its own).</param>
    public CpuForward(LlamaForCausalLM model, int rows, int maxLength, int threads = 2)
    {
        var c = model.Config;
        (_c, _nh, _nkv, _hd, _inter, _vocab, _layers) = (c.HiddenSize, c.NumAttentionHeads, c.NumKeyValueHeads, c.HeadDim, c.IntermediateSize, c.VocabSize, c.NumHiddenLayers);
        (_group, _qkvWidth, _maxLength, _threads) = (_nh / _nkv, (_nh + 2 * _nkv) * _hd, maxLength, Math.Max(1, threads));
        (_eps, _scale) = ((float)c.RmsNormEps, (float)(1.0 / Math.Sqrt(_hd)));
        (_wqkv, _wo, _wgu, _wdown) = (new PackedMatrix[_layers], new PackedMatrix[_layers], new PackedMatrix[_layers], new PackedMatrix[_layers]);
        (_normIn, _normPost) = (new float[_layers][], new float[_layers][]);
        (_keys, _values) = (new nint[_layers], new nint[_layers]);
        using (var scope = NewDisposeScope())
        {
            for (var l = 0; l < _layers; l++)
            {
                var (a, m) = (model.model.layers[l].self_attn, model.model.layers[l].mlp);
                _wqkv[l] = new PackedMatrix([a.q_proj.weight!, a.k_proj.weight!, a.v_proj.weight!], [a.q_proj.bias, a.k_proj.bias, a.v_proj.bias]);
                _wo[l] = new PackedMatrix(a.o_proj.weight!, a.o_proj.bias);
                _wgu[l] = new PackedMatrix([m.gate_proj.weight!, m.up_proj.weight!], [m.gate_proj.bias, m.up_proj.bias]);
                _wdown[l] = new PackedMatrix(m.down_proj.weight!, m.down_proj.bias);
                _normIn[l] = model.model.layers[l].input_layernorm.weight.data<float>().ToArray();
                _normPost[l] = model.model.layers[l].post_attention_layernorm.weight.data<float>().ToArray();
            }
            _embed = Keep(model.model.embed_tokens.weight!.contiguous());
            _head = new PackedMatrix(model.lm_head?.weight ?? model.model.embed_tokens.weight!, null);
        }
        _normFinal = model.model.norm.weight.data<float>().ToArray();
        var weightBytes = 4L * _wqkv.Concat(_wo).Concat(_wgu).Concat(_wdown).Append(_head).Sum(m => (long)m.In * m.Out);
        _chunksPerThread = weightBytes > CacheResidentWeightBytes ? 1 : ChunksPerThread;
        (_cos, _sin) = RotaryTables(c, maxLength);

        _px = Buffer(rows, _c);
        _ph = Buffer(rows, _c);
        _pqkv = Buffer(rows, _qkvWidth);
        _patt = Buffer(rows, _nh * _hd);
        _pproj = Buffer(rows, _c);
        _pgu = Buffer(rows, 2 * _inter);
        _pact = Buffer(rows, _inter);
        _logits = Keep(zeros(rows, _vocab));
        _plogits = Ptr(_logits);
        _pembed = Ptr(_embed);
        (_step, _gemms) = ((start, end) => Step(start, end, full: true), (start, end) => Step(start, end, full: false));
        _prefillTokens = Keep(zeros(new long[] { rows }, ScalarType.Int64));
        _identity = Enumerable.Range(0, rows).ToArray();
        _cacheRows = _identity;
        _chunk = i => _work(_bounds[i], _bounds[i + 1]);
        _panelPiece = PanelPiece;
        _embedNorm = (start, end) => EmbedNorm(start, end, _normIn[0]);
        _attention = (start, end) => Attention(start, end, (float*)_keys[_layer], (float*)_values[_layer]);
        _postNorm = (start, end) => ResidualNorm(start, end, _normPost[_layer]);
        _swiGlu = SwiGlu;
        _nextNorm = (start, end) => ResidualNorm(start, end, _layer + 1 < _layers ? _normIn[_layer + 1] : _normFinal);
        _visitRows = VisitRows;
        _team = new ChunkTeam(_threads);
    }

    /// <summary>Rows' buffers (activations and logits) a scoring pass may hold: a big vocabulary means fewer rows per call.</summary>
    private const long RowBudgetBytes = 256L << 20;
    private const int MaxScoringRows = 1024;

    /// <summary>The rows whose buffers fit <see cref="RowBudgetBytes"/> for this model (fewer for a big vocabulary), at least one.</summary>
    public static int BudgetRows(LlamaConfig c)
    {
        var rowBytes = 4L * (3 * c.HiddenSize + (2 * c.NumAttentionHeads + 2 * c.NumKeyValueHeads) * c.HeadDim + 3 * c.IntermediateSize + c.VocabSize);
        return (int)Math.Clamp(RowBudgetBytes / rowBytes, 1, int.MaxValue);
    }

    /// <summary>
    /// Runs <paramref name="sequences"/> through a new forward of <paramref name="model"/>, unpadded, as many per call as its
    /// rows hold, and after each call hands every sequence of it to <paramref name="visit"/>(index, forward, its first row),
    /// to read <see cref="Logits"/>, <see cref="LogProb"/> or <see cref="Hidden"/>. Returns the calls made; null, with
    /// nothing run, when <see cref="WhyNot"/> refuses the model. For passes that score whole sequences: rewards, reference log-probs.
    /// </summary>
    public static int? TryEachSequence(LlamaForCausalLM model, IReadOnlyList<int[]> sequences, Action<int, CpuForward, int> visit)
    {
        if (sequences.Count == 0) return 0;
        var longest = sequences.Max(s => s.Length);
        if (WhyNot(model, longest) is not null) return null;
        var c = model.Config;
        var capacity = (int)Math.Clamp(Math.Min(BudgetRows(c), sequences.Sum(s => (long)s.Length)), longest, Math.Max(longest, MaxScoringRows));
        var cacheRows = Math.Min(sequences.Count, capacity / Math.Max(1, sequences.Min(s => s.Length)));
        using var fast = new CpuForward(model, capacity, longest, get_num_threads());
        using var cache = new KvCache(c, cacheRows, longest);
        var rows = Enumerable.Range(0, cacheRows).ToArray();
        var calls = 0;
        foreach (var (first, end) in Groups(sequences, capacity, cacheRows))
        {
            fast.Prefill(sequences.Skip(first).Take(end - first).ToArray(), rows[..(end - first)], cache);
            for (int i = first, row = 0; i < end; row += sequences[i].Length, i++) visit(i, fast, row);
            calls++;
        }
        return calls;
    }

    /// <summary>
    /// Consecutive runs [First, End) of <paramref name="sequences"/>, each as long as its tokens fit <paramref name="rows"/>
    /// and it has at most <paramref name="maxSequences"/> sequences: the <see cref="Prefill"/> calls that cover them all.
    /// </summary>
    public static IEnumerable<(int First, int End)> Groups(IReadOnlyList<int[]> sequences, int rows, int maxSequences = int.MaxValue)
    {
        for (var first = 0; first < sequences.Count;)
        {
            var (end, tokens) = (first, 0);
            while (end < sequences.Count && end - first < maxSequences && tokens + sequences[end].Length <= rows) tokens += sequences[end++].Length;
            if (end == first) throw new ArgumentException($"sequence {first} has {sequences[first].Length} tokens, more than the {rows} rows a call holds", nameof(sequences));
            yield return (first, end);
            first = end;
        }
    }

    /// <summary>Decode steps this object has run (tests check that the fast path is taken).</summary>
    public long Steps { get; private set; }

    /// <summary>Rows one call can run: decode slots, or prefill tokens summed over the sequences.</summary>
    public int Capacity => (int)_logits.shape[0];

    /// <summary>Row <paramref name="row"/>'s logits (V) from the last call, valid until the next.</summary>
    public ReadOnlySpan<float> Logits(int row) => new(_plogits + (long)row * _vocab, _vocab);

    /// <summary>Row <paramref name="row"/>'s final hidden state (C, after the last RMSNorm) from the last call, valid until the next.</summary>
    public ReadOnlySpan<float> Hidden(int row) => new(_ph + (long)row * _c, _c);

    /// <summary>log softmax(row <paramref name="row"/>'s logits)[<paramref name="id"/>], in float32 as <c>log_softmax</c> computes it.</summary>
    public float LogProb(int row, int id)
    {
        if ((uint)row >= (uint)Capacity || (uint)id >= (uint)_vocab) throw new ArgumentOutOfRangeException(nameof(id), $"row {row} of {Capacity}, token {id} of {_vocab}");
        if (t_row is null || t_row.Length < _vocab) t_row = new float[_vocab];
        var logits = _plogits + (long)row * _vocab;
        fixed (float* p = t_row)
        {
            new ReadOnlySpan<float>(logits, _vocab).CopyTo(new Span<float>(p, _vocab));
            var sum = SoftmaxNumerators(p, _vocab, out var max);
            return logits[id] - max - MathF.Log(sum);
        }
    }

    /// <summary>
    /// Runs every token of each sequence through the model, sequence i's keys and values written into cache row
    /// <paramref name="cacheRows"/>[i] at positions 0..n−1. Rows are numbered in order (sequence 0's tokens first), and
    /// <see cref="Logits"/> and <see cref="Hidden"/> read them. The tokens of all sequences must fit <see cref="Capacity"/>.
    /// </summary>
    public void Prefill(IReadOnlyList<int[]> sequences, IReadOnlyList<int> cacheRows, KvCache cache)
    {
        var total = sequences.Sum(s => s.Length);
        if (sequences.Count != cacheRows.Count || total > Capacity || cache.MaxLength != _maxLength
            || sequences.Any(s => s.Length == 0 || s.Length > _maxLength) || cacheRows.Any(r => r < 0 || r >= cache.Batch))
            throw new ArgumentException($"prefill: {sequences.Count} sequences of {total} tokens (longest {sequences.Max(s => s.Length)}) into cache rows of a cache of {cache.Batch} rows and {cache.MaxLength} positions; built for {Capacity} rows, {_maxLength} positions");
        for (var i = 0; i < sequences.Count; i++)
            for (var t = 0; t < sequences[i].Length; t++)
                if ((uint)sequences[i][t] >= (uint)_vocab) // the embedding gather reads memory: an id past the table would read past it
                    throw new ArgumentException($"prefill: sequence {i} has token id {sequences[i][t]} at position {t}, expected 0..{_vocab - 1}", nameof(sequences));
        _rows = total;
        _tokens = (long*)Ptr(_prefillTokens);
        (_positions, _cacheRows) = (new int[total], new int[total]);
        var starts = new int[sequences.Count + 1];
        for (int i = 0, r = 0; i < sequences.Count; i++)
        {
            starts[i] = r;
            for (var t = 0; t < sequences[i].Length; t++, r++) (_tokens[r], _positions[r], _cacheRows[r]) = (sequences[i][t], t, cacheRows[i]);
        }
        starts[^1] = total;
        // Chunks end at sequence boundaries, near equal shares of the tokens.
        _byPanels = ByPanels(total);
        var chunks = _byPanels ? Math.Min(_threads, sequences.Count) : ChunkCount(total);
        var bounds = new List<int> { 0 };
        for (var i = 1; i < sequences.Count && bounds.Count < chunks; i++)
            if (starts[i] >= (long)total * bounds.Count / chunks) bounds.Add(starts[i]);
        bounds.Add(total);
        _bounds = [.. bounds];
        BindCache(cache);
        try { RunStep(full: true); }
        finally { (_cacheRows, _positions) = (_identity, []); }
    }

    /// <summary>
    /// Feeds <paramref name="tokens"/> ((R,) int64, R = the cache's rows) at <paramref name="positions"/>, writes each row's key
    /// and value at its own position and attends over positions 0..position of its row; returns the logits (R, V), a view
    /// of this object's buffer that the next step overwrites.
    /// </summary>
    /// <param name="into">
    /// Where to copy each row's first logits instead (contiguous float32 (R, V') with V' ≤ V, e.g. the tokenizer's ids of a
    /// padded vocabulary), as a plain memory copy: libtorch's copy_ of a whole batch would wake its OpenMP workers.
    /// </param>
    /// <param name="sharedRow">
    /// Per row, a cache row that holds the same keys and values as the row's own over its first <paramref name="sharedLength"/>
    /// positions (N samples of one prompt: each slot holds a copy of the prompt's prefix). Those positions are read from there,
    /// whole blocks of 8 positions at a time, so the logits are bit for bit those of reading each row's own copy.
    /// </param>
    /// <param name="visit">
    /// Called with each row and its logits by the thread that computed them, right after them (concurrently for rows of
    /// different chunks): a sampler chooses each row's next token there, on logits still in that core's cache, instead of
    /// in one thread's pass over all rows after the step.
    /// </param>
    public Tensor Forward(Tensor tokens, int[] positions, KvCache cache, Tensor? into = null, int[]? sharedRow = null, int[]? sharedLength = null,
        RowLogits? visit = null)
    {
        _rows = (int)cache.Batch;
        if (tokens.numel() != _rows || positions.Length < _rows || _rows > _logits.shape[0] || cache.MaxLength != _maxLength)
            throw new ArgumentException($"decode step: {tokens.numel()} tokens and {positions.Length} positions for a cache of {_rows} rows and {cache.MaxLength} positions; built for {_logits.shape[0]} rows, {_maxLength} positions");
        if ((sharedRow is null) != (sharedLength is null) || sharedRow is not null && (sharedRow.Length < _rows || sharedLength!.Length < _rows))
            throw new ArgumentException($"decode step: shared rows and lengths go together, one per row of {_rows}");
        for (var r = 0; sharedRow is not null && r < _rows; r++)
            if ((uint)sharedRow[r] >= (uint)_rows || sharedLength![r] < 0 || sharedLength[r] > positions[r])
                throw new ArgumentException($"decode step: row {r} reads its first {sharedLength![r]} positions from row {sharedRow[r]}, expected a row below {_rows} and at most its position {positions[r]}");
        (_sharedRow, _sharedLength, _visit) = (sharedRow, sharedLength, visit);
        using var scope = NewDisposeScope();
        var ids = tokens.contiguous();
        _tokens = (long*)Ptr(ids);
        _positions = positions;
        BindCache(cache);
        EqualChunks();
        try { RunStep(full: true); }
        finally { (_sharedRow, _sharedLength, _visit) = (null, null, null); }
        Steps++;
        if (into is null) return _logits.narrow(0, 0, _rows).MoveToOuterDisposeScope();
        var width = (int)into.shape[1];
        if (into.shape[0] != _rows || width > _vocab || !into.is_contiguous() || into.dtype != ScalarType.Float32 || into.device_type != TorchSharp.DeviceType.CPU)
            throw new ArgumentException($"decode step: logits go into contiguous CPU float32 ({_rows}, ≤ {_vocab}), not {into.dtype} ({string.Join(", ", into.shape)})");
        var dst = Ptr(into);
        for (var r = 0; r < _rows; r++) new ReadOnlySpan<float>(_plogits + (long)r * _vocab, width).CopyTo(new Span<float>(dst + (long)r * width, width));
        return into;
    }

    /// <summary>
    /// Copies positions 0..<paramref name="length"/>−1 of cache row <paramref name="from"/>'s keys and values, every layer,
    /// into each of the rows <paramref name="to"/>: a prefilled prompt shared by its samples. Plain memory copies, since
    /// libtorch's index_copy_ over the cache would wake its OpenMP workers.
    /// </summary>
    public void CopyCachePrefix(KvCache cache, int from, ReadOnlySpan<int> to, int length)
    {
        if (cache.MaxLength != _maxLength || length > _maxLength || from < 0 || from >= cache.Batch)
            throw new ArgumentException($"cache copy: {length} positions of row {from} in a cache of {cache.Batch} rows and {cache.MaxLength} positions; built for {_maxLength}");
        var head = (long)_maxLength * _hd; // floats of one (row, K/V head) block, in keys and values alike
        for (var l = 0; l < _layers; l++)
        {
            var (k, v) = cache.Layer(l);
            float* keys = Ptr(k), values = Ptr(v);
            foreach (var row in to)
            {
                if (row < 0 || row >= cache.Batch) throw new ArgumentOutOfRangeException(nameof(to), row, $"cache row outside 0..{cache.Batch - 1}");
                for (var j = 0; j < _nkv; j++)
                {
                    var (src, dst) = (((long)from * _nkv + j) * head, ((long)row * _nkv + j) * head);
                    new ReadOnlySpan<float>(keys + src, length * _hd).CopyTo(new Span<float>(keys + dst, length * _hd));
                    new ReadOnlySpan<float>(values + src, length * _hd).CopyTo(new Span<float>(values + dst, length * _hd));
                }
            }
        }
    }

    /// <summary>The step's GEMMs alone on <paramref name="rows"/> rows (bench: how much of a step the non-GEMM work takes).</summary>
    public void GemmsOnly(int rows)
    {
        _rows = rows;
        EqualChunks();
        RunStep(full: false);
    }

    private void BindCache(KvCache cache)
    {
        for (var l = 0; l < _layers; l++)
        {
            var (k, v) = cache.Layer(l);
            (_keys[l], _values[l]) = ((nint)Ptr(k), (nint)Ptr(v));
        }
    }

    private int ChunkCount(int rows) => _threads == 1 ? 1 : Math.Clamp(rows / MinChunkRows, 1, _chunksPerThread * _threads);

    /// <summary>
    /// True when a step of <paramref name="rows"/> rows splits each product by columns across the threads instead of
    /// splitting the rows: too few rows for a chunk per thread (rows below <see cref="MinChunkRows"/> × threads ran on one
    /// thread), and enough work to pay a handover per operation: <see cref="MinPanelRows"/> rows or more, or weights past the
    /// caches, which one thread alone cannot pull from memory as fast as two. Two threads against one, in one process: small
    /// (3 MB of weights) 0.77x at 1 row, 0.84x at 8, 1.03x at 16, 1.26x at 32; medium (100 MB) 1.6-1.95x from 1 row to 47, and 1.3-2.1x at 1 row since its one-row kernel reads a 512-bit panel in one pass.
    /// </summary>
    private bool ByPanels(int rows) => _threads > 1 && rows < MinChunkRows * _threads && (rows >= MinPanelRows || _chunksPerThread == 1);

    private void EqualChunks()
    {
        _byPanels = ByPanels(_rows);
        var chunks = _byPanels ? Math.Min(_threads, _rows) : ChunkCount(_rows);
        _bounds = new int[chunks + 1];
        for (var i = 0; i <= chunks; i++) _bounds[i] = _rows * i / chunks;
    }

    private void RunStep(bool full)
    {
        if (_byPanels) StepByPanels(full);
        else Run(full ? _step : _gemms);
    }

    /// <summary>Runs <paramref name="work"/> on each chunk of rows (<see cref="_bounds"/>), chunks claimed by the team's threads.</summary>
    private void Run(Action<int, int> work)
    {
        var chunks = _bounds.Length - 1;
        if (chunks == 1) work(0, _rows);
        else
        {
            _work = work;
            _team.Run(chunks, _chunk);
        }
    }

    /// <summary>The whole step, every layer, for rows <paramref name="start"/>..<paramref name="end"/>; its GEMMs alone when not <paramref name="full"/>.</summary>
    [MethodImpl(Hot)]
    private void Step(int start, int end, bool full)
    {
        if (full) EmbedNorm(start, end, _normIn[0]);
        for (var l = 0; l < _layers; l++)
        {
            _wqkv[l].Multiply(_ph, _c, _pqkv, _qkvWidth, start, end);
            if (full) Attention(start, end, (float*)_keys[l], (float*)_values[l]);
            _wo[l].Multiply(_patt, _nh * _hd, _pproj, _c, start, end);
            if (full) ResidualNorm(start, end, _normPost[l]);
            _wgu[l].Multiply(_ph, _c, _pgu, 2 * _inter, start, end);
            if (full) SwiGlu(start, end);
            _wdown[l].Multiply(_pact, _inter, _pproj, _c, start, end);
            if (full) ResidualNorm(start, end, l + 1 < _layers ? _normIn[l + 1] : _normFinal);
        }
        _head.Multiply(_ph, _c, _plogits, _vocab, start, end);
        if (full && _visit is not null) VisitRows(start, end);
    }

    /// <summary>
    /// <see cref="Step"/> for few rows: every product split by column panels across the threads, the row-wise work between
    /// them split by rows (at sequence boundaries in a prefill). Each output element is computed as in <see cref="Step"/>
    /// over rows 0..R, so the logits are the same bits.
    /// </summary>
    private void StepByPanels(bool full)
    {
        if (full) Run(_embedNorm);
        for (_layer = 0; _layer < _layers; _layer++)
        {
            Product(_wqkv[_layer], _ph, _c, _pqkv, _qkvWidth);
            if (full) Run(_attention);
            Product(_wo[_layer], _patt, _nh * _hd, _pproj, _c);
            if (full) Run(_postNorm);
            Product(_wgu[_layer], _ph, _c, _pgu, 2 * _inter);
            if (full) Run(_swiGlu);
            Product(_wdown[_layer], _pact, _inter, _pproj, _c);
            if (full) Run(_nextNorm);
        }
        Product(_head, _ph, _c, _plogits, _vocab);
        if (full && _visit is not null) Run(_visitRows);
    }

    /// <summary>y ← x · Wᵀ over rows 0..R, its column panels in a few pieces per thread, claimed as threads come free.</summary>
    private void Product(PackedMatrix m, float* x, long ldx, float* y, long ldy)
    {
        (_product, _ldx, _ldy, _pieces) = (m, ldx, ldy, Math.Min(m.Panels, 2 * _threads));
        _px0 = x;
        _py0 = y;
        _team.Run(_pieces, _panelPiece);
    }

    private void PanelPiece(int i)
    {
        var m = _product!;
        m.Multiply(_px0, _ldx, _py0, _ldy, 0, _rows, m.Panels * i / _pieces, m.Panels * (i + 1) / _pieces);
    }

    private void VisitRows(int start, int end)
    {
        for (var r = start; r < end; r++) _visit!(r, new ReadOnlySpan<float>(_plogits + (long)r * _vocab, _vocab));
    }

    /// <summary>x ← embedding[token]; h ← RMSNorm(x) · w.</summary>
    [MethodImpl(Hot)]
    private void EmbedNorm(int start, int end, float[] norm)
    {
        for (var r = start; r < end; r++)
        {
            new ReadOnlySpan<float>(_pembed + _tokens[r] * _c, _c).CopyTo(new Span<float>(_px + (long)r * _c, _c));
            AddNorm(_px + (long)r * _c, null, _ph + (long)r * _c, norm);
        }
    }

    /// <summary>x ← x + proj; h ← RMSNorm(x) · w (the residual add fused with the next norm).</summary>
    [MethodImpl(Hot)]
    private void ResidualNorm(int start, int end, float[] norm)
    {
        for (var r = start; r < end; r++) AddNorm(_px + (long)r * _c, _pproj + (long)r * _c, _ph + (long)r * _c, norm);
    }

    /// <summary>x ← x + add (when given); h ← x · rsqrt(mean(x²) + eps) · w, in float32 as <see cref="RmsNorm.forward"/>.</summary>
    [MethodImpl(Hot)]
    private void AddNorm(float* x, float* add, float* h, float[] norm)
    {
        var (n, i) = (_c, 0);
        var acc = Vector256<float>.Zero;
        for (; i + 8 <= n; i += 8)
        {
            var v = Vector256.Load(x + i);
            if (add != null)
            {
                v += Vector256.Load(add + i);
                v.Store(x + i);
            }
            acc = Fma.MultiplyAdd(v, v, acc);
        }
        var sum = Vector256.Sum(acc);
        for (; i < n; i++)
        {
            if (add != null) x[i] += add[i];
            sum += x[i] * x[i];
        }
        var inv = 1f / MathF.Sqrt(sum / n + _eps);
        fixed (float* w = norm)
        {
            var scale = Vector256.Create(inv);
            for (i = 0; i + 8 <= n; i += 8) (Vector256.Load(x + i) * scale * Vector256.Load(w + i)).Store(h + i);
            for (; i < n; i++) h[i] = x[i] * inv * w[i];
        }
    }

    /// <summary>act ← silu(gate) · up = gate · up / (1 + e^−gate).</summary>
    [MethodImpl(Hot)]
    private void SwiGlu(int start, int end)
    {
        var one = Vector256.Create(1f);
        for (var r = start; r < end; r++)
        {
            var gate = _pgu + (long)r * 2 * _inter;
            var up = gate + _inter;
            var act = _pact + (long)r * _inter;
            var i = 0;
            for (; i + 8 <= _inter; i += 8)
            {
                var g = Vector256.Load(gate + i);
                (g * Vector256.Load(up + i) / (one + Exp(-g))).Store(act + i);
            }
            for (; i < _inter; i++) act[i] = gate[i] * up[i] / (1f + MathF.Exp(-gate[i]));
        }
    }

    /// <summary>
    /// Per row: RoPE on its q and k heads at its position, k and v written into the cache at that position, then each query
    /// head attends over positions 0..position of its K/V head (the rows' stale tails are never read, so no mask).
    /// </summary>
    [MethodImpl(Hot)]
    private void Attention(int start, int end, float* cacheKeys, float* cacheValues)
    {
        if (t_scores is null || t_scores.Length < 2 * _maxLength) t_scores = new float[2 * _maxLength];
        fixed (float* scores = t_scores)
        fixed (float* cos = _cos, sin = _sin)
            for (var r = start; r < end; r++)
            {
                var pos = _positions[r];
                var n = pos + 1;
                var row = _pqkv + (long)r * _qkvWidth;
                var c = cos + (long)pos * (_hd / 2);
                var s = sin + (long)pos * (_hd / 2);
                // In a prefill the next row is usually the same sequence's next token, whose cache is the one just read.
                if (r + 1 < end && _cacheRows[r + 1] != _cacheRows[r]) Prefetch(r + 1, cacheKeys, cacheValues);
                for (var j = 0; j < _nkv; j++)
                {
                    var k = row + (_nh + j) * _hd;
                    var v = row + (_nh + _nkv + j) * _hd;
                    Rope(k, c, s, _hd);
                    var cacheRow = _cacheRows[r];
                    var keys = cacheKeys + ((long)cacheRow * _nkv + j) * _maxLength * _hd;     // (L, hd)
                    var values = cacheValues + ((long)cacheRow * _nkv + j) * _maxLength * _hd; // (L, hd)
                    new ReadOnlySpan<float>(k, _hd).CopyTo(new Span<float>(keys + (long)pos * _hd, _hd));
                    new ReadOnlySpan<float>(v, _hd).CopyTo(new Span<float>(values + (long)pos * _hd, _hd));
                    // Whole blocks of 8 shared positions: the same blocks and sums as reading the row's own copy.
                    float* sharedKeys = keys, sharedValues = values;
                    var split = _sharedRow is null ? 0 : _sharedLength![r] & ~7;
                    if (split > 0)
                    {
                        sharedKeys = cacheKeys + ((long)_sharedRow![r] * _nkv + j) * _maxLength * _hd;
                        sharedValues = cacheValues + ((long)_sharedRow![r] * _nkv + j) * _maxLength * _hd;
                    }
                    // Query heads of one K/V head two at a time: each key and value row loaded once for both, every sum as for one.
                    for (var g = 0; g < _group; g += 2)
                    {
                        var head = j * _group + g;
                        var q = row + head * _hd;
                        Rope(q, c, s, _hd);
                        if (g + 1 == _group)
                        {
                            AttendOne(q, scores, n, keys, values, sharedKeys, sharedValues, split, _patt + (long)r * _nh * _hd + head * _hd);
                            continue;
                        }
                        var q2 = q + _hd;
                        Rope(q2, c, s, _hd);
                        var scores2 = scores + _maxLength;
                        // q·k for 8 positions at a time, then the rest one by one.
                        var t = 0;
                        for (; t < split; t += 8)
                        {
                            (Dot8Pair(sharedKeys + (long)t * _hd, _hd, q, q2, _hd, out var second) * _scale).Store(scores + t);
                            (second * _scale).Store(scores2 + t);
                        }
                        for (; t + 8 <= n; t += 8)
                        {
                            (Dot8Pair(keys + (long)t * _hd, _hd, q, q2, _hd, out var second) * _scale).Store(scores + t);
                            (second * _scale).Store(scores2 + t);
                        }
                        for (; t < n; t++)
                        {
                            scores[t] = Dot(keys + (long)t * _hd, q, _hd) * _scale;
                            scores2[t] = Dot(keys + (long)t * _hd, q2, _hd) * _scale;
                        }
                        var inv = 1f / SoftmaxNumerators(scores, n);
                        var inv2 = 1f / SoftmaxNumerators(scores2, n);
                        var o = _patt + (long)r * _nh * _hd + head * _hd;
                        WeightedSum(scores, n, values, sharedValues, split, _hd, inv, o);
                        WeightedSum(scores2, n, values, sharedValues, split, _hd, inv2, o + _hd);
                    }
                }
            }
    }

    /// <summary>
    /// Asks for row <paramref name="r"/>'s own keys and values (past any shared positions) while the current row computes:
    /// a row's own positions are a few hundred bytes per K/V head, too short for the hardware prefetcher to pick up.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Prefetch(int r, float* cacheKeys, float* cacheValues)
    {
        var n = _positions[r] + 1;
        var from = _sharedRow is null ? 0 : _sharedLength![r] & ~7;
        var cacheRow = _cacheRows[r];
        for (var j = 0; j < _nkv; j++)
        {
            var offset = ((long)cacheRow * _nkv + j) * _maxLength * _hd;
            byte* keys = (byte*)(cacheKeys + offset), values = (byte*)(cacheValues + offset);
            for (long b = (long)from * _hd * 4, e = (long)n * _hd * 4; b < e; b += 64)
            {
                Sse.Prefetch0(keys + b);
                Sse.Prefetch0(values + b);
            }
        }
    }

    /// <summary>One query head (a K/V group's odd one out) over its row's cache: scores, softmax, p·v into <paramref name="o"/>.</summary>
    [MethodImpl(Hot)]
    private void AttendOne(float* q, float* scores, int n, float* keys, float* values, float* sharedKeys, float* sharedValues, int split, float* o)
    {
        // q·k for 8 positions at a time, then the rest one by one.
        var t = 0;
        for (; t < split; t += 8) (Dot8(sharedKeys + (long)t * _hd, _hd, q, _hd) * _scale).Store(scores + t);
        for (; t + 8 <= n; t += 8) (Dot8(keys + (long)t * _hd, _hd, q, _hd) * _scale).Store(scores + t);
        for (; t < n; t++) scores[t] = Dot(keys + (long)t * _hd, q, _hd) * _scale;
        WeightedSum(scores, n, values, sharedValues, split, _hd, 1f / SoftmaxNumerators(scores, n), o);
    }

    /// <summary>
    /// o ← inv · Σ_t p[t] · values[t] over positions 0..n−1 of (L, hd) values (the first <paramref name="split"/>, a multiple
    /// of 8, read from <paramref name="shared"/>): each position's row scaled and added, 16 or 8 dimensions at a time.
    /// </summary>
    /// <remarks>
    /// Eight accumulators per dimension, position t into accumulator t mod 8, added pairwise at the end: eight independent
    /// chains of multiply-adds, and the very sums the transposed layout's eight-lane dot products along positions made
    /// (earlier samples reproduce bit for bit), without their horizontal adds and with whole 64-byte rows per position.
    /// The 512-bit and 256-bit bodies are the same loop written twice, as in <see cref="PackedMatrix"/>: .NET 10 has no
    /// public generic vector arithmetic that would keep either width's eight sums in registers from one body.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void WeightedSum(float* p, int n, float* values, float* shared, int split, int hd, float inv, float* o)
    {
        var d = 0;
        if (PackedMatrix.Accelerated512)
            for (; d + 16 <= hd; d += 16)
            {
                Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
                var t = 0;
                for (; t + 8 <= n; t += 8)
                {
                    var v = (t < split ? shared : values) + (long)t * hd + d;
                    a0 = Avx512F.FusedMultiplyAdd(Vector512.Load(v), Vector512.Create(p[t]), a0);
                    a1 = Avx512F.FusedMultiplyAdd(Vector512.Load(v + hd), Vector512.Create(p[t + 1]), a1);
                    a2 = Avx512F.FusedMultiplyAdd(Vector512.Load(v + 2 * hd), Vector512.Create(p[t + 2]), a2);
                    a3 = Avx512F.FusedMultiplyAdd(Vector512.Load(v + 3 * hd), Vector512.Create(p[t + 3]), a3);
                    a4 = Avx512F.FusedMultiplyAdd(Vector512.Load(v + 4 * hd), Vector512.Create(p[t + 4]), a4);
                    a5 = Avx512F.FusedMultiplyAdd(Vector512.Load(v + 5 * hd), Vector512.Create(p[t + 5]), a5);
                    a6 = Avx512F.FusedMultiplyAdd(Vector512.Load(v + 6 * hd), Vector512.Create(p[t + 6]), a6);
                    a7 = Avx512F.FusedMultiplyAdd(Vector512.Load(v + 7 * hd), Vector512.Create(p[t + 7]), a7);
                }
                var rest = values + (long)t * hd + d;
                var left = n - t;
                if (left > 0) a0 = Avx512F.FusedMultiplyAdd(Vector512.Load(rest), Vector512.Create(p[t]), a0);
                if (left > 1) a1 = Avx512F.FusedMultiplyAdd(Vector512.Load(rest + hd), Vector512.Create(p[t + 1]), a1);
                if (left > 2) a2 = Avx512F.FusedMultiplyAdd(Vector512.Load(rest + 2 * hd), Vector512.Create(p[t + 2]), a2);
                if (left > 3) a3 = Avx512F.FusedMultiplyAdd(Vector512.Load(rest + 3 * hd), Vector512.Create(p[t + 3]), a3);
                if (left > 4) a4 = Avx512F.FusedMultiplyAdd(Vector512.Load(rest + 4 * hd), Vector512.Create(p[t + 4]), a4);
                if (left > 5) a5 = Avx512F.FusedMultiplyAdd(Vector512.Load(rest + 5 * hd), Vector512.Create(p[t + 5]), a5);
                if (left > 6) a6 = Avx512F.FusedMultiplyAdd(Vector512.Load(rest + 6 * hd), Vector512.Create(p[t + 6]), a6);
                ((((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7))) * inv).Store(o + d);
            }
        for (; d + 8 <= hd; d += 8)
        {
            Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
            var t = 0;
            for (; t + 8 <= n; t += 8)
            {
                var v = (t < split ? shared : values) + (long)t * hd + d;
                a0 = Fma.MultiplyAdd(Vector256.Load(v), Vector256.Create(p[t]), a0);
                a1 = Fma.MultiplyAdd(Vector256.Load(v + hd), Vector256.Create(p[t + 1]), a1);
                a2 = Fma.MultiplyAdd(Vector256.Load(v + 2 * hd), Vector256.Create(p[t + 2]), a2);
                a3 = Fma.MultiplyAdd(Vector256.Load(v + 3 * hd), Vector256.Create(p[t + 3]), a3);
                a4 = Fma.MultiplyAdd(Vector256.Load(v + 4 * hd), Vector256.Create(p[t + 4]), a4);
                a5 = Fma.MultiplyAdd(Vector256.Load(v + 5 * hd), Vector256.Create(p[t + 5]), a5);
                a6 = Fma.MultiplyAdd(Vector256.Load(v + 6 * hd), Vector256.Create(p[t + 6]), a6);
                a7 = Fma.MultiplyAdd(Vector256.Load(v + 7 * hd), Vector256.Create(p[t + 7]), a7);
            }
            var rest = values + (long)t * hd + d;
            var left = n - t;
            if (left > 0) a0 = Fma.MultiplyAdd(Vector256.Load(rest), Vector256.Create(p[t]), a0);
            if (left > 1) a1 = Fma.MultiplyAdd(Vector256.Load(rest + hd), Vector256.Create(p[t + 1]), a1);
            if (left > 2) a2 = Fma.MultiplyAdd(Vector256.Load(rest + 2 * hd), Vector256.Create(p[t + 2]), a2);
            if (left > 3) a3 = Fma.MultiplyAdd(Vector256.Load(rest + 3 * hd), Vector256.Create(p[t + 3]), a3);
            if (left > 4) a4 = Fma.MultiplyAdd(Vector256.Load(rest + 4 * hd), Vector256.Create(p[t + 4]), a4);
            if (left > 5) a5 = Fma.MultiplyAdd(Vector256.Load(rest + 5 * hd), Vector256.Create(p[t + 5]), a5);
            if (left > 6) a6 = Fma.MultiplyAdd(Vector256.Load(rest + 6 * hd), Vector256.Create(p[t + 6]), a6);
            ((((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7))) * inv).Store(o + d);
        }
        Span<float> a = stackalloc float[8];
        for (; d < hd; d++)
        {
            a.Clear();
            for (var t = 0; t < n; t++) a[t & 7] = MathF.FusedMultiplyAdd((t < split ? shared : values)[(long)t * hd + d], p[t], a[t & 7]);
            o[d] = (((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]))) * inv;
        }
    }

    /// <summary>p ← e^(p − max p) over n scores, in place; returns their sum.</summary>
    public static float SoftmaxNumerators(float* p, int n) => SoftmaxNumerators(p, n, out _);

    /// <inheritdoc cref="SoftmaxNumerators(float*, int)"/>
    [MethodImpl(Hot)]
    public static float SoftmaxNumerators(float* p, int n, out float max)
    {
        var i = 0;
        var top = float.NegativeInfinity;
        if (n >= 8)
        {
            var m = Vector256.Load(p);
            for (i = 8; i + 8 <= n; i += 8) m = Vector256.Max(m, Vector256.Load(p + i));
            for (var k = 0; k < 8; k++) top = MathF.Max(top, m.GetElement(k));
        }
        for (; i < n; i++) top = MathF.Max(top, p[i]);
        var (vmax, acc) = (Vector256.Create(top), Vector256<float>.Zero);
        for (i = 0; i + 8 <= n; i += 8)
        {
            var e = Exp(Vector256.Load(p + i) - vmax);
            e.Store(p + i);
            acc += e;
        }
        var sum = Vector256.Sum(acc);
        for (; i < n; i++) sum += p[i] = MathF.Exp(p[i] - top);
        max = top;
        return sum;
    }

    /// <summary>HF's rotate_half RoPE on one head: (x1, x2) ← (x1·cos − x2·sin, x2·cos + x1·sin). Eight at a time, with the
    /// scalar loop's separate multiplies and adds (no fused multiply-add), so both give the same bits.</summary>
    [MethodImpl(Hot)]
    private static void Rope(float* x, float* cos, float* sin, int hd)
    {
        var half = hd / 2;
        var i = 0;
        for (; i + 8 <= half; i += 8)
        {
            var (a, b, c, s) = (Vector256.Load(x + i), Vector256.Load(x + i + half), Vector256.Load(cos + i), Vector256.Load(sin + i));
            (a * c - b * s).Store(x + i);
            (b * c + a * s).Store(x + i + half);
        }
        for (; i < half; i++)
        {
            var (a, b) = (x[i], x[i + half]);
            x[i] = a * cos[i] - b * sin[i];
            x[i + half] = b * cos[i] + a * sin[i];
        }
    }

    /// <summary>The 8 dot products of rows a, a + stride, …, a + 7·stride with b, over n elements (the tail read masked).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Dot8(float* a, long stride, float* b, int n)
    {
        Vector256<float> s0 = default, s1 = default, s2 = default, s3 = default, s4 = default, s5 = default, s6 = default, s7 = default;
        var i = 0;
        for (; i + 8 <= n; i += 8)
        {
            var x = Vector256.Load(b + i);
            var row = a + i;
            s0 = Fma.MultiplyAdd(Vector256.Load(row), x, s0);
            s1 = Fma.MultiplyAdd(Vector256.Load(row + stride), x, s1);
            s2 = Fma.MultiplyAdd(Vector256.Load(row + 2 * stride), x, s2);
            s3 = Fma.MultiplyAdd(Vector256.Load(row + 3 * stride), x, s3);
            s4 = Fma.MultiplyAdd(Vector256.Load(row + 4 * stride), x, s4);
            s5 = Fma.MultiplyAdd(Vector256.Load(row + 5 * stride), x, s5);
            s6 = Fma.MultiplyAdd(Vector256.Load(row + 6 * stride), x, s6);
            s7 = Fma.MultiplyAdd(Vector256.Load(row + 7 * stride), x, s7);
        }
        if (i < n)
        {
            // Masked loads read only the n − i live lanes: never past a row's end, never a stale cache tail.
            var mask = Vector256.GreaterThan(Vector256.Create(n - i), Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7)).AsSingle();
            var x = Avx.MaskLoad(b + i, mask);
            var row = a + i;
            s0 = Fma.MultiplyAdd(Avx.MaskLoad(row, mask), x, s0);
            s1 = Fma.MultiplyAdd(Avx.MaskLoad(row + stride, mask), x, s1);
            s2 = Fma.MultiplyAdd(Avx.MaskLoad(row + 2 * stride, mask), x, s2);
            s3 = Fma.MultiplyAdd(Avx.MaskLoad(row + 3 * stride, mask), x, s3);
            s4 = Fma.MultiplyAdd(Avx.MaskLoad(row + 4 * stride, mask), x, s4);
            s5 = Fma.MultiplyAdd(Avx.MaskLoad(row + 5 * stride, mask), x, s5);
            s6 = Fma.MultiplyAdd(Avx.MaskLoad(row + 6 * stride, mask), x, s6);
            s7 = Fma.MultiplyAdd(Avx.MaskLoad(row + 7 * stride, mask), x, s7);
        }
        return TransposeAdd(s0, s1, s2, s3, s4, s5, s6, s7);
    }

    /// <summary><see cref="Dot8"/> of the same 8 rows with two vectors, each row loaded once: the first vector's 8 sums are
    /// returned, the second's in <paramref name="second"/>, each the same chain of operations as <see cref="Dot8"/>'s.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Dot8Pair(float* a, long stride, float* b, float* b2, int n, out Vector256<float> second)
    {
        Vector256<float> s0 = default, s1 = default, s2 = default, s3 = default, s4 = default, s5 = default, s6 = default, s7 = default;
        Vector256<float> u0 = default, u1 = default, u2 = default, u3 = default, u4 = default, u5 = default, u6 = default, u7 = default;
        var i = 0;
        for (; i + 8 <= n; i += 8)
        {
            var (x, y) = (Vector256.Load(b + i), Vector256.Load(b2 + i));
            var row = a + i;
            var r = Vector256.Load(row);
            (s0, u0) = (Fma.MultiplyAdd(r, x, s0), Fma.MultiplyAdd(r, y, u0));
            r = Vector256.Load(row + stride);
            (s1, u1) = (Fma.MultiplyAdd(r, x, s1), Fma.MultiplyAdd(r, y, u1));
            r = Vector256.Load(row + 2 * stride);
            (s2, u2) = (Fma.MultiplyAdd(r, x, s2), Fma.MultiplyAdd(r, y, u2));
            r = Vector256.Load(row + 3 * stride);
            (s3, u3) = (Fma.MultiplyAdd(r, x, s3), Fma.MultiplyAdd(r, y, u3));
            r = Vector256.Load(row + 4 * stride);
            (s4, u4) = (Fma.MultiplyAdd(r, x, s4), Fma.MultiplyAdd(r, y, u4));
            r = Vector256.Load(row + 5 * stride);
            (s5, u5) = (Fma.MultiplyAdd(r, x, s5), Fma.MultiplyAdd(r, y, u5));
            r = Vector256.Load(row + 6 * stride);
            (s6, u6) = (Fma.MultiplyAdd(r, x, s6), Fma.MultiplyAdd(r, y, u6));
            r = Vector256.Load(row + 7 * stride);
            (s7, u7) = (Fma.MultiplyAdd(r, x, s7), Fma.MultiplyAdd(r, y, u7));
        }
        if (i < n)
        {
            var mask = Vector256.GreaterThan(Vector256.Create(n - i), Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7)).AsSingle();
            var (x, y) = (Avx.MaskLoad(b + i, mask), Avx.MaskLoad(b2 + i, mask));
            var row = a + i;
            var r = Avx.MaskLoad(row, mask);
            (s0, u0) = (Fma.MultiplyAdd(r, x, s0), Fma.MultiplyAdd(r, y, u0));
            r = Avx.MaskLoad(row + stride, mask);
            (s1, u1) = (Fma.MultiplyAdd(r, x, s1), Fma.MultiplyAdd(r, y, u1));
            r = Avx.MaskLoad(row + 2 * stride, mask);
            (s2, u2) = (Fma.MultiplyAdd(r, x, s2), Fma.MultiplyAdd(r, y, u2));
            r = Avx.MaskLoad(row + 3 * stride, mask);
            (s3, u3) = (Fma.MultiplyAdd(r, x, s3), Fma.MultiplyAdd(r, y, u3));
            r = Avx.MaskLoad(row + 4 * stride, mask);
            (s4, u4) = (Fma.MultiplyAdd(r, x, s4), Fma.MultiplyAdd(r, y, u4));
            r = Avx.MaskLoad(row + 5 * stride, mask);
            (s5, u5) = (Fma.MultiplyAdd(r, x, s5), Fma.MultiplyAdd(r, y, u5));
            r = Avx.MaskLoad(row + 6 * stride, mask);
            (s6, u6) = (Fma.MultiplyAdd(r, x, s6), Fma.MultiplyAdd(r, y, u6));
            r = Avx.MaskLoad(row + 7 * stride, mask);
            (s7, u7) = (Fma.MultiplyAdd(r, x, s7), Fma.MultiplyAdd(r, y, u7));
        }
        second = TransposeAdd(u0, u1, u2, u3, u4, u5, u6, u7);
        return TransposeAdd(s0, s1, s2, s3, s4, s5, s6, s7);
    }

    /// <summary>Lane k of the result is the sum of s_k's lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> TransposeAdd(Vector256<float> s0, Vector256<float> s1, Vector256<float> s2, Vector256<float> s3,
        Vector256<float> s4, Vector256<float> s5, Vector256<float> s6, Vector256<float> s7)
    {
        var h0123 = Avx.HorizontalAdd(Avx.HorizontalAdd(s0, s1), Avx.HorizontalAdd(s2, s3));
        var h4567 = Avx.HorizontalAdd(Avx.HorizontalAdd(s4, s5), Avx.HorizontalAdd(s6, s7));
        return Avx.Permute2x128(h0123, h4567, 0x20) + Avx.Permute2x128(h0123, h4567, 0x31);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Dot(float* a, float* b, int n)
    {
        var acc = Vector256<float>.Zero;
        var i = 0;
        for (; i + 8 <= n; i += 8) acc = Fma.MultiplyAdd(Vector256.Load(a + i), Vector256.Load(b + i), acc);
        var sum = Vector256.Sum(acc);
        for (; i < n; i++) sum += a[i] * b[i];
        return sum;
    }

    /// <summary>e^x in float32 (Cody–Waite range reduction, degree-7 polynomial; within 2 ulp over the range used here).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Exp(Vector256<float> x)
    {
        x = Vector256.Min(Vector256.Max(x, Vector256.Create(-87.3f)), Vector256.Create(88.3f));
        var k = Vector256.Round(x * Vector256.Create(1.44269504f));
        var r = Fma.MultiplyAdd(k, Vector256.Create(2.12194440e-4f), Fma.MultiplyAdd(k, Vector256.Create(-0.693359375f), x));
        var p = Vector256.Create(1f / 5040);
        p = Fma.MultiplyAdd(p, r, Vector256.Create(1f / 720));
        p = Fma.MultiplyAdd(p, r, Vector256.Create(1f / 120));
        p = Fma.MultiplyAdd(p, r, Vector256.Create(1f / 24));
        p = Fma.MultiplyAdd(p, r, Vector256.Create(1f / 6));
        p = Fma.MultiplyAdd(p, r, Vector256.Create(0.5f));
        p = Fma.MultiplyAdd(p, r, Vector256.Create(1f));
        p = Fma.MultiplyAdd(p, r, Vector256.Create(1f));
        return p * Vector256.ShiftLeft(Vector256.ConvertToInt32(k) + Vector256.Create(127), 23).AsSingle();
    }

    /// <summary>cos and sin of every (position, frequency) as <see cref="RotaryEmbedding.forward"/> computes them (float32 angle, attention scaling).</summary>
    private static (float[] Cos, float[] Sin) RotaryTables(LlamaConfig c, int maxLength)
    {
        var (inv, scaling) = RotaryEmbedding.Frequencies(c.HeadDim, c.RopeTheta, c.RopeScaling, c.MaxPositionEmbeddings, maxLength);
        var half = c.HeadDim / 2;
        var (cos, sin) = (new float[maxLength * half], new float[maxLength * half]);
        for (var p = 0; p < maxLength; p++)
            for (var i = 0; i < half; i++)
            {
                var angle = (float)p * (float)inv[i];
                cos[p * half + i] = (float)(Math.Cos(angle) * scaling);
                sin[p * half + i] = (float)(Math.Sin(angle) * scaling);
            }
        return (cos, sin);
    }

    private Tensor Keep(Tensor t)
    {
        _owned.Add(t.DetachFromDisposeScope());
        return t;
    }

    private float* Buffer(long rows, long width) => Ptr(Keep(zeros(rows, width)));

    /// <summary>The first element of a contiguous CPU tensor: TorchSharp's <c>bytes</c> is a span over the tensor's own memory.</summary>
    private static float* Ptr(Tensor t) => (float*)Unsafe.AsPointer(ref MemoryMarshal.GetReference(t.bytes));

    public void Dispose()
    {
        _team.Dispose();
        foreach (var m in _wqkv.Concat(_wo).Concat(_wgu).Concat(_wdown).Append(_head)) m?.Dispose();
        foreach (var t in _owned) t.Dispose();
    }
}
