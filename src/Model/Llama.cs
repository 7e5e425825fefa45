// The whole LLaMA network in one file, as nanoGPT keeps GPT in model.py: config, norm, rotary embedding,
// attention, MLP, block, model, and the KV cache that incremental decoding needs.
//
// Field names equal Hugging Face's state-dict keys (embed_tokens, self_attn, input_layernorm, ...), so a
// checkpoint maps to model.safetensors with no translation table.
#pragma warning disable IDE1006 // HF tensor names are snake_case on purpose
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace PostTrain.Model;

/// <summary>
/// Hyper-parameters of the network. Its JSON is Hugging Face's LlamaConfig, so <c>config.json</c> is read by
/// <c>transformers.LlamaConfig</c> and a HF LLaMA checkpoint's config reads back here.
/// </summary>
public sealed record LlamaConfig
{
    [JsonPropertyName("vocab_size")] public int VocabSize { get; init; } = 512;
    [JsonPropertyName("hidden_size")] public int HiddenSize { get; init; } = 256;
    /// <summary>SwiGLU width; LLaMA uses about 8/3 of hidden_size, rounded up to a multiple of 32 for GEMM efficiency.</summary>
    [JsonPropertyName("intermediate_size")] public int IntermediateSize { get; init; } = 704;
    [JsonPropertyName("num_hidden_layers")] public int NumHiddenLayers { get; init; } = 4;
    [JsonPropertyName("num_attention_heads")] public int NumAttentionHeads { get; init; } = 4;
    /// <summary>Grouped-query attention: heads share K/V in groups of num_attention_heads / num_key_value_heads.</summary>
    [JsonPropertyName("num_key_value_heads")] public int NumKeyValueHeads { get; init; } = 4;
    [JsonPropertyName("rms_norm_eps")] public double RmsNormEps { get; init; } = 1e-5;
    /// <summary>RoPE base; 10000 as in LLaMA 1/2 (Llama 3 uses 500000 for long contexts).</summary>
    [JsonPropertyName("rope_theta")] public double RopeTheta { get; init; } = 10000.0;
    [JsonPropertyName("max_position_embeddings")] public int MaxPositionEmbeddings { get; init; } = 256;
    [JsonPropertyName("tie_word_embeddings")] public bool TieWordEmbeddings { get; init; }
    /// <summary>Std of the normal init, HF's initializer_range.</summary>
    [JsonPropertyName("initializer_range")] public double InitializerRange { get; init; } = 0.02;
    [JsonPropertyName("bos_token_id")] public int? BosTokenId { get; init; }
    /// <summary>Llama 3 lists several end ids ([128001, 128009]); older configs give one number. Both read here.</summary>
    [JsonPropertyName("eos_token_id"), JsonConverter(typeof(TokenIdsJsonConverter))] public int[]? EosTokenIds { get; init; }
    [JsonIgnore] public int? EosTokenId { get => EosTokenIds is [var first, ..] ? first : null; init => EosTokenIds = value is null ? null : [value.Value]; }
    [JsonPropertyName("pad_token_id")] public int? PadTokenId { get; init; }
    /// <summary>Width of one attention head; null = hidden_size / num_attention_heads (Llama 3.2 3B and Mistral Nemo set it apart).</summary>
    [JsonPropertyName("head_dim"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public int? ExplicitHeadDim { get; init; }
    /// <summary>Long-context RoPE rescaling (Llama 3.1/3.2 use <c>llama3</c>); null = plain RoPE.</summary>
    [JsonPropertyName("rope_scaling"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public RopeScaling? RopeScaling { get; init; }
    /// <summary>1 on a reward model saved as HF's LlamaForSequenceClassification (one scalar score); null on a causal LM.</summary>
    [JsonPropertyName("num_labels"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public int? NumLabels { get; init; }

    // Fixed for this architecture, written so HF tooling recognises the file.
    [JsonPropertyName("model_type")] public string ModelType { get; init; } = "llama";
    [JsonPropertyName("architectures")] public string[] Architectures { get; init; } = ["LlamaForCausalLM"];
    [JsonPropertyName("hidden_act")] public string HiddenAct { get; init; } = "silu";
    /// <summary>Biases on q/k/v/o projections (HF: all four share the flag).</summary>
    [JsonPropertyName("attention_bias")] public bool AttentionBias { get; init; }
    /// <summary>Biases on gate/up/down projections.</summary>
    [JsonPropertyName("mlp_bias")] public bool MlpBias { get; init; }
    [JsonPropertyName("torch_dtype")] public string TorchDtype { get; init; } = "float32";

    /// <summary>
    /// Keys of a Hugging Face config.json that this record does not declare. Kept so a config reads back as it was
    /// written; <see cref="Validate"/> refuses any that would change the network's maths (see <see cref="ConfigKeys"/>).
    /// </summary>
    [JsonExtensionData] public Dictionary<string, JsonElement>? OtherKeys { get; init; }

    [JsonIgnore] public int HeadDim => ExplicitHeadDim ?? (NumAttentionHeads > 0 ? HiddenSize / NumAttentionHeads : 0);

    /// <summary>Parameters the config implies, counted without allocating (to refuse absurd configs early).</summary>
    [JsonIgnore] public double ParameterCount
    {
        get
        {
            double C = HiddenSize, I = IntermediateSize, q = (double)NumAttentionHeads * HeadDim, kv = (double)NumKeyValueHeads * HeadDim;
            var attention = 2 * q * C + 2 * kv * C + (AttentionBias ? q + 2 * kv + C : 0);
            var mlp = 3 * I * C + (MlpBias ? 2 * I + C : 0);
            return (double)NumHiddenLayers * (attention + mlp + 2 * C) + (TieWordEmbeddings ? 1 : 2) * (double)VocabSize * C + C;
        }
    }

    /// <summary>Refused before any allocation: 10^11 parameters is 400 GB in float32, beyond any machine PostTrain runs on.</summary>
    public const double MaxParameters = 1e11;

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    /// <summary>
    /// Every tensor of <see cref="LlamaForCausalLM"/> for this config with its shape, in HF names, computed without
    /// allocating: a checkpoint's header is checked against it before the network is built.
    /// </summary>
    public IReadOnlyDictionary<string, long[]> ParameterShapes()
    {
        long C = HiddenSize, I = IntermediateSize, q = (long)NumAttentionHeads * HeadDim, kv = (long)NumKeyValueHeads * HeadDim;
        var shapes = new Dictionary<string, long[]>(StringComparer.Ordinal) { ["model.embed_tokens.weight"] = [VocabSize, C] };
        void Linear(string name, long outF, long inF, bool bias)
        {
            shapes[name + ".weight"] = [outF, inF];
            if (bias) shapes[name + ".bias"] = [outF];
        }
        for (var i = 0; i < NumHiddenLayers; i++)
        {
            var p = $"model.layers.{i}.";
            Linear(p + "self_attn.q_proj", q, C, AttentionBias);
            Linear(p + "self_attn.k_proj", kv, C, AttentionBias);
            Linear(p + "self_attn.v_proj", kv, C, AttentionBias);
            Linear(p + "self_attn.o_proj", C, q, AttentionBias);
            Linear(p + "mlp.gate_proj", I, C, MlpBias);
            Linear(p + "mlp.up_proj", I, C, MlpBias);
            Linear(p + "mlp.down_proj", C, I, MlpBias);
            shapes[p + "input_layernorm.weight"] = [C];
            shapes[p + "post_attention_layernorm.weight"] = [C];
        }
        shapes["model.norm.weight"] = [C];
        if (!TieWordEmbeddings) shapes["lm_head.weight"] = [VocabSize, C];
        return shapes;
    }

    /// <summary>Throws with the field, the actual value and what was expected.</summary>
    public LlamaConfig Validate(string source = "config")
    {
        void Check(bool ok, string field, object actual, string expected)
        {
            if (!ok) throw new InvalidDataException($"{source}: {field} is {actual}, expected {expected}");
        }
        Check(VocabSize > 0, "vocab_size", VocabSize, "> 0");
        Check(HiddenSize > 0, "hidden_size", HiddenSize, "> 0");
        Check(IntermediateSize > 0, "intermediate_size", IntermediateSize, "> 0");
        Check(NumHiddenLayers > 0, "num_hidden_layers", NumHiddenLayers, "> 0");
        Check(NumAttentionHeads > 0 && (ExplicitHeadDim is not null || HiddenSize % NumAttentionHeads == 0), "num_attention_heads", NumAttentionHeads, $"a divisor of hidden_size {HiddenSize} (or head_dim set)");
        Check(ExplicitHeadDim is null or > 0, "head_dim", ExplicitHeadDim!, "> 0");
        Check(HeadDim % 2 == 0, "head_dim", HeadDim, "even (RoPE rotates pairs)");
        Check(NumKeyValueHeads > 0 && NumKeyValueHeads <= NumAttentionHeads && NumAttentionHeads % NumKeyValueHeads == 0,
            "num_key_value_heads", NumKeyValueHeads, $"a divisor of num_attention_heads {NumAttentionHeads}");
        Check(RmsNormEps > 0, "rms_norm_eps", RmsNormEps, "> 0");
        Check(RopeTheta > 0, "rope_theta", RopeTheta, "> 0");
        Check(MaxPositionEmbeddings > 0, "max_position_embeddings", MaxPositionEmbeddings, "> 0");
        Check(HiddenAct == "silu", "hidden_act", HiddenAct, "\"silu\"");
        Check(ModelType is "llama" or "mistral", "model_type", $"\"{ModelType}\"", "\"llama\" (or \"mistral\" without a sliding window)");
        Check(NumLabels is null or 1, "num_labels", NumLabels!, "1 (a scalar reward) or absent");
        var parameters = ParameterCount;
        Check(parameters <= MaxParameters, "the sizes", $"{parameters:G3} parameters ({parameters * 4 / 1e9:G3} GB in float32)", $"at most {MaxParameters:G0}; refused before allocating");
        RopeScaling?.Validate(source, this);
        ConfigKeys.CheckOthers(source, OtherKeys);
        return this;
    }

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static LlamaConfig FromJson(string json, string source)
    {
        LlamaConfig? config;
        try { config = JsonSerializer.Deserialize<LlamaConfig>(json); }
        catch (JsonException e) { throw new InvalidDataException($"{source}: not a valid LlamaConfig: {e.Message}", e); }
        return (config ?? throw new InvalidDataException($"{source}: empty config")).Validate(source);
    }

    public static LlamaConfig Load(string path) => FromJson(File.ReadAllText(path), path);

    public static IReadOnlyList<string> PresetNames { get; } = ["tiny", "small", "medium"];

    /// <summary>An embedded preset: tiny (tests, seconds), small (default demo), medium (benchmarks).</summary>
    public static LlamaConfig Preset(string name)
    {
        var resource = $"PostTrain.Model.Presets.{name}.json";
        using var stream = typeof(LlamaConfig).Assembly.GetManifestResourceStream(resource)
            ?? throw new ArgumentException($"unknown preset '{name}', expected one of: {string.Join(", ", PresetNames)}", nameof(name));
        using var reader = new StreamReader(stream);
        return FromJson(reader.ReadToEnd(), $"preset {name}");
    }
}

/// <summary>
/// HF's <c>rope_scaling</c>: how RoPE's frequencies are stretched for contexts longer than pretraining's. Each type is
/// computed as transformers' <c>modeling_rope_utils</c> documents it (see <see cref="RotaryEmbedding"/>); a key a type
/// does not use is refused by name rather than ignored.
/// </summary>
public sealed record RopeScaling
{
    /// <summary><c>llama3</c>, <c>linear</c>, <c>dynamic</c>, <c>yarn</c> or <c>default</c> (none). Older configs say <c>type</c>.</summary>
    [JsonPropertyName("rope_type"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? RopeType { get; init; }
    [JsonPropertyName("type"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? LegacyType { get; init; }
    /// <summary>Context extension factor (Llama 3.1: 8, Llama 3.2: 32).</summary>
    [JsonPropertyName("factor"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public double? Factor { get; init; }
    /// <summary>llama3: wavelengths longer than original / low_freq_factor are divided by factor.</summary>
    [JsonPropertyName("low_freq_factor"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public double? LowFreqFactor { get; init; }
    /// <summary>llama3: wavelengths shorter than original / high_freq_factor are kept.</summary>
    [JsonPropertyName("high_freq_factor"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public double? HighFreqFactor { get; init; }
    /// <summary>llama3, yarn: the pretraining context (Llama 3: 8192).</summary>
    [JsonPropertyName("original_max_position_embeddings"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public int? OriginalMaxPositionEmbeddings { get; init; }
    /// <summary>yarn (Peng et al. 2023, sec. 3.2): rotations per context above which a dimension is extrapolated (default 32).</summary>
    [JsonPropertyName("beta_fast"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public double? BetaFast { get; init; }
    /// <summary>yarn: rotations per context below which a dimension is interpolated (default 1).</summary>
    [JsonPropertyName("beta_slow"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public double? BetaSlow { get; init; }
    /// <summary>yarn: scale on cos/sin; default 0.1·ln(factor) + 1 (eqn. 22 of the paper's "√(1/t)").</summary>
    [JsonPropertyName("attention_factor"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public double? AttentionFactor { get; init; }
    [JsonPropertyName("mscale"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public double? Mscale { get; init; }
    [JsonPropertyName("mscale_all_dim"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public double? MscaleAllDim { get; init; }
    /// <summary>yarn: round the correction range to whole dimensions (default true).</summary>
    [JsonPropertyName("truncate"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public bool? Truncate { get; init; }
    [JsonExtensionData] public Dictionary<string, JsonElement>? OtherKeys { get; init; }

    [JsonIgnore] public string Kind => RopeType ?? LegacyType ?? "default";

    internal void Validate(string source, LlamaConfig c)
    {
        string Where(string key) => $"{source}: rope_scaling.{key}";
        if (RopeType is not null && LegacyType is not null && RopeType != LegacyType)
            throw new InvalidDataException($"{Where("rope_type")} is \"{RopeType}\" but rope_scaling.type is \"{LegacyType}\"; expected one type");
        string[] used = Kind switch
        {
            "default" => [],
            "linear" or "dynamic" => ["factor"],
            "llama3" => ["factor", "low_freq_factor", "high_freq_factor", "original_max_position_embeddings"],
            "yarn" => ["factor", "original_max_position_embeddings", "beta_fast", "beta_slow", "attention_factor", "mscale", "mscale_all_dim", "truncate"],
            _ => throw new InvalidDataException($"{Where(RopeType is null ? "type" : "rope_type")} is \"{Kind}\", expected one of llama3, linear, dynamic, yarn, default; other RoPE types change the maths and are not supported"),
        };
        if (OtherKeys is { Count: > 0 })
            throw new InvalidDataException($"{Where(OtherKeys.Keys.First())} is not supported; for {Kind} PostTrain reads only: {string.Join(", ", used)}");
        var given = new (string Key, bool Set)[]
        {
            ("factor", Factor is not null), ("low_freq_factor", LowFreqFactor is not null), ("high_freq_factor", HighFreqFactor is not null),
            ("original_max_position_embeddings", OriginalMaxPositionEmbeddings is not null), ("beta_fast", BetaFast is not null),
            ("beta_slow", BetaSlow is not null), ("attention_factor", AttentionFactor is not null), ("mscale", Mscale is not null),
            ("mscale_all_dim", MscaleAllDim is not null), ("truncate", Truncate is not null),
        };
        foreach (var (key, set) in given)
            if (set && !used.Contains(key))
                throw new InvalidDataException($"{Where(key)} is set, but rope type {Kind} does not use it; expected only: {(used.Length == 0 ? "none" : string.Join(", ", used))}");
        if (Kind == "default") return;
        if (Factor is not (>= 1.0) || !double.IsFinite(Factor.Value)) throw new InvalidDataException($"{Where("factor")} is {Factor?.ToString() ?? "missing"}, expected a finite number >= 1");
        if (Kind == "llama3")
        {
            if (LowFreqFactor is not (> 0) || HighFreqFactor is not (> 0) || HighFreqFactor <= LowFreqFactor)
                throw new InvalidDataException($"{Where("low_freq_factor/high_freq_factor")} is {LowFreqFactor?.ToString() ?? "missing"}/{HighFreqFactor?.ToString() ?? "missing"}, expected 0 < low < high");
            if (OriginalMaxPositionEmbeddings is not (> 0)) throw new InvalidDataException($"{Where("original_max_position_embeddings")} is {OriginalMaxPositionEmbeddings?.ToString() ?? "missing"}, expected > 0");
        }
        if (Kind == "yarn" && OriginalMaxPositionEmbeddings is <= 0) throw new InvalidDataException($"{Where("original_max_position_embeddings")} is {OriginalMaxPositionEmbeddings}, expected > 0");
    }
}

/// <summary>
/// The HF config keys <see cref="LlamaConfig"/> does not declare. A key that changes the network's maths and that
/// PostTrain does not implement is refused by name, never ignored; so is a key PostTrain does not know, since it
/// cannot tell whether it changes the maths.
/// </summary>
public static class ConfigKeys
{
    /// <summary>Bookkeeping, generation and tokenizer keys of HF's PretrainedConfig that never change the forward pass.</summary>
    private static readonly HashSet<string> Harmless = new(StringComparer.Ordinal)
    {
        "_name_or_path", "transformers_version", "use_cache", "dtype", "pretraining_tp", "tokenizer_class", "is_llama_config",
        "output_attentions", "output_hidden_states", "return_dict", "torchscript", "is_decoder", "is_encoder_decoder",
        "id2label", "label2id", "problem_type", "finetuning_task", "prefix", "task_specific_params", "sep_token_id",
        "decoder_start_token_id", "unk_token_id", "max_length", "min_length", "do_sample", "temperature", "top_k", "top_p",
        "num_beams", "repetition_penalty", "length_penalty", "no_repeat_ngram_size", "early_stopping", "bad_words_ids",
        "chunk_size_feed_forward", "tie_encoder_decoder", "cross_attention_hidden_size", "add_cross_attention",
        "use_bfloat16", "tf_legacy_loss", "pruned_heads", "typical_p", "diversity_penalty", "num_return_sequences",
        "output_scores", "return_dict_in_generate", "forced_bos_token_id", "forced_eos_token_id", "remove_invalid_values",
        "exponential_decay_length_penalty", "suppress_tokens", "begin_suppress_tokens", "encoder_no_repeat_ngram_size",
        "num_beam_groups", "architectures",
    };

    /// <summary>Keys that are harmless only at HF's default value, which they must then have.</summary>
    private static readonly Dictionary<string, (Func<JsonElement, bool> IsDefault, string Expected)> DefaultOnly = new(StringComparer.Ordinal)
    {
        ["attention_dropout"] = (v => v.ValueKind == JsonValueKind.Number && v.GetDouble() == 0, "0.0 (PostTrain trains without attention dropout)"),
        ["sliding_window"] = (v => v.ValueKind == JsonValueKind.Null, "null (sliding-window attention is not implemented)"),
        ["use_sliding_window"] = (v => v.ValueKind is JsonValueKind.False or JsonValueKind.Null, "false (sliding-window attention is not implemented)"),
        ["partial_rotary_factor"] = (v => v.ValueKind == JsonValueKind.Number && v.GetDouble() == 1, "1.0 (partial rotary embeddings are not implemented)"),
        ["rope_interleaved"] = (v => v.ValueKind is JsonValueKind.False or JsonValueKind.Null, "false (PostTrain rotates HF's two halves, not interleaved pairs)"),
        ["quantization_config"] = (v => v.ValueKind == JsonValueKind.Null, "absent (quantized weights are not supported; dequantize to F32/BF16/F16 first)"),
        ["auto_map"] = (v => v.ValueKind == JsonValueKind.Null, "absent (custom modelling code is not run; only the stock Llama network is implemented)"),
    };

    internal static void CheckOthers(string source, IReadOnlyDictionary<string, JsonElement>? others)
    {
        foreach (var (key, value) in others ?? new Dictionary<string, JsonElement>())
        {
            if (Harmless.Contains(key)) continue;
            if (DefaultOnly.TryGetValue(key, out var rule))
            {
                if (!rule.IsDefault(value)) throw new InvalidDataException($"{source}: {key} is {value.GetRawText()}, expected {rule.Expected}");
                continue;
            }
            throw new InvalidDataException($"{source}: {key} is not supported: PostTrain does not know this key, so it cannot tell whether it changes the network; " +
                "if it does not, remove it from the config");
        }
    }
}

/// <summary>Reads a token id given as a number or a list of numbers; writes one id as a number, several as a list.</summary>
public sealed class TokenIdsJsonConverter : JsonConverter<int[]?>
{
    public override int[]? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => reader.TokenType switch
    {
        JsonTokenType.Null => null,
        JsonTokenType.Number => [reader.GetInt32()],
        JsonTokenType.StartArray => JsonSerializer.Deserialize<int[]>(ref reader, options),
        _ => throw new JsonException($"expected a token id or a list of token ids, got {reader.TokenType}"),
    };

    public override void Write(Utf8JsonWriter writer, int[]? value, JsonSerializerOptions options)
    {
        if (value is null) writer.WriteNullValue();
        else if (value.Length == 1) writer.WriteNumberValue(value[0]);
        else JsonSerializer.Serialize(writer, value, options);
    }
}

/// <summary>Root-mean-square layer norm (Zhang &amp; Sennrich 2019): no mean subtraction, no bias. TorchSharp has none.</summary>
public sealed class RmsNorm : nn.Module<Tensor, Tensor>
{
    private readonly double eps;
    public readonly Parameter weight;

    public RmsNorm(long dim, double eps) : base(nameof(RmsNorm))
    {
        this.eps = eps;
        weight = nn.Parameter(ones(dim));
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        // Normalise in fp32 as HF does, so half-precision weights do not lose the variance.
        var h = x.to_type(ScalarType.Float32);
        h = h * (h.pow(2).mean([-1], keepdim: true) + eps).rsqrt();
        return (weight * h.to_type(x.dtype)).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// Rotary position embedding (Su et al. 2021) in Hugging Face's "rotate_half" layout: the head dimension is split
/// into two halves rather than interleaved pairs, which is what HF LLaMA checkpoints expect. <c>rope_scaling</c> changes
/// the frequencies as transformers' <c>modeling_rope_utils</c> defines them (see <see cref="Frequencies"/>).
/// </summary>
public sealed class RotaryEmbedding : nn.Module
{
    private readonly Tensor inv_freq; // (hd/2,) not persisted: HF recomputes it from rope_theta
    private readonly int headDim, maxPositions;
    private readonly double theta, attentionScaling;
    private readonly RopeScaling? scaling;

    public RotaryEmbedding(int headDim, double theta) : this(headDim, theta, null, 0) { }

    public RotaryEmbedding(LlamaConfig c) : this(c.HeadDim, c.RopeTheta, c.RopeScaling, c.MaxPositionEmbeddings) { }

    private RotaryEmbedding(int headDim, double theta, RopeScaling? scaling, int maxPositions) : base(nameof(RotaryEmbedding))
    {
        (this.headDim, this.theta, this.scaling, this.maxPositions) = (headDim, theta, scaling, maxPositions);
        var (inv, scale) = Frequencies(headDim, theta, scaling, maxPositions, 0);
        attentionScaling = scale;
        inv_freq = tensor(inv).to_type(ScalarType.Float32);
        register_buffer(nameof(inv_freq), inv_freq, persistent: false);
    }

    /// <summary>
    /// Inverse frequencies (hd/2) and the factor on cos/sin for one rope type, in float64. <paramref name="seqLength"/>
    /// is the longest position + 1 of the current forward, which only <c>dynamic</c> reads.
    /// </summary>
    public static (double[] InvFreq, double AttentionScaling) Frequencies(int headDim, double theta, RopeScaling? s, int maxPositions, long seqLength)
    {
        var half = headDim / 2;
        double[] InvFreq(double b) => Enumerable.Range(0, half).Select(i => 1.0 / Math.Pow(b, 2.0 * i / headDim)).ToArray();
        var inv = InvFreq(theta);
        switch (s?.Kind ?? "default")
        {
            case "linear": // Position interpolation (Chen et al. 2023): positions / factor.
                return (inv.Select(f => f / s!.Factor!.Value).ToArray(), 1.0);
            case "dynamic":
            {
                // Dynamic NTK: past max_position_embeddings the base grows so the lowest frequency still spans the sequence.
                if (seqLength <= maxPositions) return (inv, 1.0);
                var factor = s!.Factor!.Value;
                var b = theta * Math.Pow(factor * seqLength / maxPositions - (factor - 1), headDim / (headDim - 2.0));
                return (InvFreq(b), 1.0);
            }
            case "llama3":
            {
                // Llama 3.1: long wavelengths are divided by factor, short ones kept, the band between interpolated smoothly.
                var (factor, low, high, original) = (s!.Factor!.Value, s.LowFreqFactor!.Value, s.HighFreqFactor!.Value, (double)s.OriginalMaxPositionEmbeddings!.Value);
                var (lowWavelength, highWavelength) = (original / low, original / high);
                return (inv.Select(f =>
                {
                    var wavelength = 2 * Math.PI / f;
                    if (wavelength < highWavelength) return f;
                    if (wavelength > lowWavelength) return f / factor;
                    var smooth = (original / wavelength - low) / (high - low);
                    return (1 - smooth) * f / factor + smooth * f;
                }).ToArray(), 1.0);
            }
            case "yarn":
            {
                // YaRN (Peng et al. 2023): interpolate the slow dimensions, extrapolate the fast ones, ramp between, and
                // scale cos/sin. As transformers does, a given original_max_position_embeddings makes the factor
                // max_position_embeddings / original (DeepSeek-V3 style configs).
                var original = s!.OriginalMaxPositionEmbeddings ?? maxPositions;
                var factor = s.OriginalMaxPositionEmbeddings is { } o ? (double)maxPositions / o : s.Factor!.Value;
                static double Mscale(double scale, double m) => scale <= 1 ? 1.0 : 0.1 * m * Math.Log(scale) + 1.0;
                var attention = s.AttentionFactor ?? (s.Mscale is { } m && m != 0 && s.MscaleAllDim is { } ma && ma != 0
                    ? Mscale(factor, m) / Mscale(factor, ma) : Mscale(factor, 1));
                // The dimension whose wavelength fits `rotations` times in the original context.
                double CorrectionDim(double rotations) => headDim * Math.Log(original / (rotations * 2 * Math.PI)) / (2 * Math.Log(theta));
                double lowDim = CorrectionDim(s.BetaFast ?? 32), highDim = CorrectionDim(s.BetaSlow ?? 1);
                if (s.Truncate ?? true) (lowDim, highDim) = (Math.Floor(lowDim), Math.Ceiling(highDim));
                (lowDim, highDim) = (Math.Max(lowDim, 0), Math.Min(highDim, headDim - 1));
                if (lowDim == highDim) highDim += 0.001; // avoid a zero-width ramp
                return (inv.Select((f, i) =>
                {
                    var ramp = Math.Clamp((i - lowDim) / (highDim - lowDim), 0, 1);
                    var extrapolation = 1 - ramp;
                    return f / factor * (1 - extrapolation) + f * extrapolation;
                }).ToArray(), attention);
            }
            default:
                return (inv, 1.0);
        }
    }

    /// <summary>cos and sin for each (row, position): positions (B, T) → two (B, 1, T, hd).</summary>
    public (Tensor cos, Tensor sin) forward(Tensor positions)
    {
        using var scope = NewDisposeScope();
        var inv = inv_freq;
        if (scaling?.Kind == "dynamic")
        {
            // As HF's dynamic_rope_update: the frequencies follow the longest position of this call.
            var seqLength = positions.max().item<long>() + 1;
            if (seqLength > maxPositions)
                inv = tensor(Frequencies(headDim, theta, scaling, maxPositions, seqLength).InvFreq, device: positions.device).to_type(ScalarType.Float32);
        }
        var freqs = positions.to_type(ScalarType.Float32).unsqueeze(-1) * inv;     // (B, T, hd/2)
        var emb = cat([freqs, freqs], -1).unsqueeze(1);                             // (B, 1, T, hd)
        var (cos, sin) = (emb.cos(), emb.sin());
        if (attentionScaling != 1.0) (cos, sin) = (cos * attentionScaling, sin * attentionScaling);
        return (cos.MoveToOuterDisposeScope(), sin.MoveToOuterDisposeScope());
    }

    public static Tensor RotateHalf(Tensor x)
    {
        var half = x.shape[^1] / 2;
        return cat([-x[TensorIndex.Ellipsis, TensorIndex.Slice(half)], x[TensorIndex.Ellipsis, TensorIndex.Slice(0, half)]], -1);
    }

    public static Tensor Apply(Tensor x, Tensor cos, Tensor sin) => x * cos + RotateHalf(x) * sin;
}

/// <summary>Multi-head causal self-attention with grouped-query K/V heads and an optional KV cache.</summary>
/// <remarks>Projections run through <c>call</c>, not <c>forward</c>, so forward hooks (LoRA adapters) take part.</remarks>
public sealed class Attention : nn.Module
{
    private readonly int nHead, nKvHead, headDim;
    public readonly Linear q_proj, k_proj, v_proj, o_proj;

    public Attention(LlamaConfig c) : base(nameof(Attention))
    {
        (nHead, nKvHead, headDim) = (c.NumAttentionHeads, c.NumKeyValueHeads, c.HeadDim);
        q_proj = nn.Linear(c.HiddenSize, nHead * headDim, hasBias: c.AttentionBias);
        k_proj = nn.Linear(c.HiddenSize, nKvHead * headDim, hasBias: c.AttentionBias);
        v_proj = nn.Linear(c.HiddenSize, nKvHead * headDim, hasBias: c.AttentionBias);
        o_proj = nn.Linear(nHead * headDim, c.HiddenSize, hasBias: c.AttentionBias);
        RegisterComponents();
    }

    /// <param name="x">(B, T, C)</param>
    /// <param name="mask">(B|1, 1, T, S) bool, true = may attend (or float, added to the scores); null = causal over T with no cache.</param>
    public Tensor forward(Tensor x, Tensor cos, Tensor sin, Tensor? mask, KvCache? cache, int layer)
    {
        using var scope = NewDisposeScope();
        var (B, T) = (x.shape[0], x.shape[1]);
        var q = q_proj.call(x).view(B, T, nHead, headDim).transpose(1, 2);   // (B, nh, T, hd)
        var k = k_proj.call(x).view(B, T, nKvHead, headDim).transpose(1, 2); // (B, nkv, T, hd)
        var v = v_proj.call(x).view(B, T, nKvHead, headDim).transpose(1, 2); // (B, nkv, T, hd)
        q = RotaryEmbedding.Apply(q, cos, sin);
        k = RotaryEmbedding.Apply(k, cos, sin);
        if (cache is not null) (k, v) = cache.Append(layer, k, v);             // (B, nkv, S, hd)
        if (T == 1 && cache is not null)
        {
            // One decode token per row over the cache: the query heads that share a K/V head attend as one group of rows,
            // so K/V is read in place instead of copied n_rep times (HF's repeat_kv), and attention is two batched matmuls:
            // SDPA's CPU kernel took about 3x longer on these one-query shapes (bench profile.decode). With one query head
            // per K/V head, q·k runs as the keys times a column, reducing along each key's contiguous hd.
            var qg = q.reshape(B, nKvHead, nHead / nKvHead, headDim);             // (B, nkv, g, hd)
            var single = nHead == nKvHead;
            var scores = (single ? k.matmul(qg.transpose(2, 3)).transpose(2, 3) : qg.matmul(k.transpose(2, 3)))
                .mul_(1.0 / Math.Sqrt(headDim));                                // (B, nkv, g, S)
            if (mask is not null && mask.dtype == ScalarType.Bool) scores.masked_fill_(mask.logical_not(), double.NegativeInfinity);
            else if (mask is not null) scores.add_(mask);
            var p = F.softmax(scores, -1);
            var grouped = p.matmul(v);                                            // (B, nkv, g, hd)
            return o_proj.call(grouped.reshape(B, T, nHead * headDim)).MoveToOuterDisposeScope();
        }
        if (nKvHead != nHead)
        {
            // HF's repeat_kv: each K/V head serves n_rep consecutive query heads.
            k = k.repeat_interleave(nHead / nKvHead, dim: 1);                  // (B, nh, S, hd)
            v = v.repeat_interleave(nHead / nKvHead, dim: 1);
        }
        var y = mask is null
            ? F.scaled_dot_product_attention(q, k, v, is_casual: T > 1)        // (B, nh, T, hd)
            : F.scaled_dot_product_attention(q, k, v, attn_mask: mask);
        y = y.transpose(1, 2).contiguous().view(B, T, nHead * headDim);        // (B, T, nh·hd)
        return o_proj.call(y).MoveToOuterDisposeScope();
    }
}

/// <summary>SwiGLU feed-forward (Shazeer 2020): down(silu(gate(x)) * up(x)).</summary>
public sealed class Mlp : nn.Module<Tensor, Tensor>
{
    public readonly Linear gate_proj, up_proj, down_proj;

    public Mlp(LlamaConfig c) : base(nameof(Mlp))
    {
        gate_proj = nn.Linear(c.HiddenSize, c.IntermediateSize, hasBias: c.MlpBias);
        up_proj = nn.Linear(c.HiddenSize, c.IntermediateSize, hasBias: c.MlpBias);
        down_proj = nn.Linear(c.IntermediateSize, c.HiddenSize, hasBias: c.MlpBias);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return down_proj.call(F.silu(gate_proj.call(x)) * up_proj.call(x)).MoveToOuterDisposeScope();
    }
}

/// <summary>One pre-norm transformer block: x + attn(norm(x)), then + mlp(norm(x)).</summary>
public sealed class DecoderLayer : nn.Module
{
    public readonly Attention self_attn;
    public readonly Mlp mlp;
    public readonly RmsNorm input_layernorm, post_attention_layernorm;

    public DecoderLayer(LlamaConfig c) : base(nameof(DecoderLayer))
    {
        self_attn = new Attention(c);
        mlp = new Mlp(c);
        input_layernorm = new RmsNorm(c.HiddenSize, c.RmsNormEps);
        post_attention_layernorm = new RmsNorm(c.HiddenSize, c.RmsNormEps);
        RegisterComponents();
    }

    public Tensor forward(Tensor x, Tensor cos, Tensor sin, Tensor? mask, KvCache? cache, int layer)
    {
        using var scope = NewDisposeScope();
        var h = x + self_attn.forward(input_layernorm.forward(x), cos, sin, mask, cache, layer);
        return (h + mlp.forward(post_attention_layernorm.forward(h))).MoveToOuterDisposeScope();
    }
}

/// <summary>The decoder stack without the LM head: HF's <c>model.*</c> tensors. Returns final normed hidden states.</summary>
public sealed class LlamaModel : nn.Module
{
    public readonly LlamaConfig Config;
    public readonly Embedding embed_tokens;
    public readonly ModuleList<DecoderLayer> layers;
    public readonly RmsNorm norm;
    private readonly RotaryEmbedding rotary_emb;

    public LlamaModel(LlamaConfig c) : base(nameof(LlamaModel))
    {
        Config = c.Validate();
        embed_tokens = nn.Embedding(c.VocabSize, c.HiddenSize);
        layers = new ModuleList<DecoderLayer>(Enumerable.Range(0, c.NumHiddenLayers).Select(_ => new DecoderLayer(c)).ToArray());
        norm = new RmsNorm(c.HiddenSize, c.RmsNormEps);
        rotary_emb = new RotaryEmbedding(c);
        RegisterComponents();
    }

    /// <summary>See <see cref="LlamaForCausalLM.forward"/>; returns hidden states (B, T, C).</summary>
    public Tensor forward(Tensor inputIds, Tensor? positions = null, Tensor? attentionMask = null, KvCache? cache = null)
    {
        using var scope = NewDisposeScope();
        var (B, T) = (inputIds.shape[0], inputIds.shape[1]);
        var past = cache?.Length ?? 0;
        // Dynamic NTK scaling exists to run past max_position_embeddings; every other kind stops there.
        if (past + T > Config.MaxPositionEmbeddings && positions is null && Config.RopeScaling?.Kind != "dynamic")
            throw new ArgumentException($"cannot forward {past + T} positions, max_position_embeddings is only {Config.MaxPositionEmbeddings}");
        if (cache is not null && past + T > cache.MaxLength)
            throw new ArgumentException($"KV cache holds {cache.MaxLength} positions, {past} used, {T} more requested");
        positions ??= arange(past, past + T, dtype: ScalarType.Int64, device: inputIds.device).unsqueeze(0).expand(B, T);
        // A cached decode step over several new tokens needs an explicit causal mask: SDPA's is_causal aligns
        // top-left, which is wrong once keys include the past.
        if (attentionMask is null && past > 0 && T > 1)
            attentionMask = AttentionMasks.Causal(null, T, past + T, inputIds.device);
        var (cos, sin) = rotary_emb.forward(positions);
        var x = embed_tokens.forward(inputIds); // (B, T, C)
        for (var i = 0; i < layers.Count; i++)
            x = layers[i].forward(x, cos, sin, attentionMask, cache, i);
        cache?.Advance(T);
        return norm.forward(x).MoveToOuterDisposeScope();
    }
}

/// <summary>The causal language model: <see cref="LlamaModel"/> plus <c>lm_head</c> (or the tied embedding).</summary>
public sealed class LlamaForCausalLM : nn.Module
{
    public readonly LlamaConfig Config;
    public readonly LlamaModel model;
    public readonly Linear? lm_head;

    public LlamaForCausalLM(LlamaConfig config, Device? device = null) : base(nameof(LlamaForCausalLM))
    {
        Config = config.Validate();
        model = new LlamaModel(config);
        if (!config.TieWordEmbeddings) lm_head = nn.Linear(config.HiddenSize, config.VocabSize, hasBias: false);
        RegisterComponents();
        InitWeights();
        if (device is not null && device.type != DeviceType.CPU) this.to(device);
    }

    /// <summary>
    /// Logits (B, T, V) for <paramref name="inputIds"/> (B, T) int64.
    /// </summary>
    /// <param name="positions">(B, T) int64 position of each token; defaults to cache length + 0..T-1 for every row.
    /// Left-padded ragged batches pass <see cref="AttentionMasks.PositionsFromPadding"/>.</param>
    /// <param name="attentionMask">(B|1, 1, T, S) bool, true = may attend, S = cached + new keys; null = causal.</param>
    /// <param name="cache">Filled in place and advanced by T.</param>
    public Tensor forward(Tensor inputIds, Tensor? positions = null, Tensor? attentionMask = null, KvCache? cache = null)
    {
        using var scope = NewDisposeScope();
        var h = model.forward(inputIds, positions, attentionMask, cache);
        return Head(h).MoveToOuterDisposeScope();
    }

    /// <summary>Projects hidden states (…, C) to logits (…, V).</summary>
    public Tensor Head(Tensor hidden) =>
        lm_head is not null ? lm_head.forward(hidden) : F.linear(hidden, model.embed_tokens.weight!);

    public long ParameterCount() => parameters().Sum(p => p.numel());

    private void InitWeights()
    {
        // HF LlamaPreTrainedModel._init_weights: N(0, initializer_range) for linear and embedding weights; biases at 0; norms at 1.
        using var _ = no_grad();
        foreach (var (name, p) in named_parameters())
            if (name.EndsWith(".bias", StringComparison.Ordinal)) p.zero_();
            else if (!name.EndsWith("layernorm.weight", StringComparison.Ordinal) && name != "model.norm.weight")
                nn.init.normal_(p, 0, Config.InitializerRange);
    }
}

/// <summary>
/// Per-layer keys and values of past positions, preallocated so decoding never reallocates.
/// Rows are independent sequences; ragged prompts are left-padded and masked (see <see cref="AttentionMasks"/>).
/// </summary>
public sealed class KvCache : IDisposable
{
    // Keys and values alike (B, nkv, MaxLength, hd): a position's key or value is one contiguous run of hd floats, so
    // CpuForward writes it with one copy and reads p·v as whole rows scaled and added (see its Attention).
    private readonly Tensor[] keys, values;
    private Tensor? rowWrite; // (B, nkv, 1, hd) int64: each row's own write position, in row-position mode
    private int visible;

    public int Length { get; private set; }
    public int MaxLength { get; }
    public long Batch => keys[0].shape[0];

    public KvCache(LlamaConfig c, long batch, int maxLength, Device? device = null, ScalarType dtype = ScalarType.Float32)
    {
        MaxLength = maxLength;
        keys = new Tensor[c.NumHiddenLayers];
        values = new Tensor[c.NumHiddenLayers];
        for (var i = 0; i < keys.Length; i++)
        {
            // Detached from any dispose scope: the cache outlives the forward calls that fill it.
            keys[i] = zeros([batch, c.NumKeyValueHeads, maxLength, c.HeadDim], dtype, device).DetachFromDisposeScope();
            values[i] = zeros([batch, c.NumKeyValueHeads, maxLength, c.HeadDim], dtype, device).DetachFromDisposeScope();
        }
    }

    /// <summary>
    /// Writes k, v (B, nkv, T, hd) after the cached positions; returns all keys and values so far (B, nkv, S, hd), views of
    /// the cache.
    /// </summary>
    internal (Tensor k, Tensor v) Append(int layer, Tensor k, Tensor v)
    {
        var t = k.shape[2];
        if (rowWrite is not null)
        {
            if (t != 1) throw new InvalidOperationException($"a KV cache in row-position mode takes one token per row, got {t}");
            keys[layer].scatter_(2, rowWrite, k);
            values[layer].scatter_(2, rowWrite, v);
            return (keys[layer].narrow(2, 0, visible), values[layer].narrow(2, 0, visible));
        }
        using (no_grad())
        {
            keys[layer][.., .., TensorIndex.Slice(Length, Length + t)] = k;
            values[layer][.., .., TensorIndex.Slice(Length, Length + t)] = v;
        }
        var end = TensorIndex.Slice(0, Length + t);
        return (keys[layer][.., .., end], values[layer][.., .., end]);
    }

    /// <summary>
    /// Layer <paramref name="layer"/>'s whole buffers, keys and values, each (B, nkv, MaxLength, hd),
    /// contiguous: for a decode kernel that writes and reads them in place (<c>CpuForward</c>). <see cref="Reorder"/> replaces them.
    /// </summary>
    public (Tensor Keys, Tensor Values) Layer(int layer) => (keys[layer], values[layer]);

    internal void Advance(long t)
    {
        if (rowWrite is null) Length += (int)t;
    }

    /// <summary>
    /// Row-position mode, for continuous batching: rows are at different lengths, so each row writes its next key at its
    /// own <paramref name="positions"/> (B,) int64 and attention reads the first <paramref name="visibleLength"/> positions
    /// (the caller's mask hides each row's stale tail). Set before every one-token forward; null returns to the shared length.
    /// </summary>
    public void WriteAtRowPositions(Tensor? positions, int visibleLength)
    {
        if (positions is not null && (visibleLength < 1 || visibleLength > MaxLength))
            throw new ArgumentOutOfRangeException(nameof(visibleLength), visibleLength, $"expected 1..{MaxLength}");
        var shape = keys[0].shape;
        rowWrite = positions?.view(-1, 1, 1, 1).expand(shape[0], shape[1], 1, shape[3]);
        visible = visibleLength;
    }

    /// <summary>
    /// Copies the first <paramref name="length"/> positions of <paramref name="source"/>'s rows <paramref name="sourceRows"/>
    /// into this cache's rows <paramref name="targetRows"/> (both (R,) int64), in place: a prompt prefilled once fills the
    /// slots of its N continuations.
    /// </summary>
    public void CopyRows(KvCache source, Tensor sourceRows, Tensor targetRows, int length)
    {
        using var scope = NewDisposeScope();
        for (var i = 0; i < keys.Length; i++)
        {
            keys[i].narrow(2, 0, length).index_copy_(0, targetRows, source.keys[i].narrow(2, 0, length).index_select(0, sourceRows));
            values[i].narrow(2, 0, length).index_copy_(0, targetRows, source.values[i].narrow(2, 0, length).index_select(0, sourceRows));
        }
    }

    /// <summary>Bytes of keys and values one row holds at full length.</summary>
    public static long BytesPerRow(LlamaConfig c, int maxLength, ScalarType dtype = ScalarType.Float32) =>
        2L * c.NumHiddenLayers * c.NumKeyValueHeads * maxLength * c.HeadDim * (dtype switch { ScalarType.Float64 => 8, ScalarType.Float32 => 4, _ => 2 });

    /// <summary>Selects or repeats rows: <paramref name="rowIndex"/> (B',) int64. A prompt prefilled once serves N continuations.</summary>
    public void Reorder(Tensor rowIndex)
    {
        for (var i = 0; i < keys.Length; i++)
        {
            var (k, v) = (keys[i], values[i]);
            keys[i] = k.index_select(0, rowIndex).DetachFromDisposeScope();
            values[i] = v.index_select(0, rowIndex).DetachFromDisposeScope();
            k.Dispose();
            v.Dispose();
        }
    }

    public void Dispose()
    {
        foreach (var t in keys.Concat(values)) t.Dispose();
    }
}

/// <summary>Boolean attention masks for SDPA (true = may attend) and the positions that go with them.</summary>
public static class AttentionMasks
{
    /// <summary>
    /// Causal mask (B|1, 1, T, S) for T new queries at the end of S keys. <paramref name="keyPadding"/> (B, S) bool marks real
    /// (non-pad) keys. Each query may always see itself, so a pad row never has every key masked: SDPA would return NaN
    /// there, and 0 × NaN would leak into real rows through later layers.
    /// </summary>
    public static Tensor Causal(Tensor? keyPadding, long T, long S, Device? device = null)
    {
        using var scope = NewDisposeScope();
        device ??= keyPadding?.device ?? CPU;
        var q = arange(S - T, S, dtype: ScalarType.Int64, device: device).unsqueeze(1); // (T, 1) absolute query positions
        var kpos = arange(0, S, dtype: ScalarType.Int64, device: device).unsqueeze(0);  // (1, S)
        var causal = kpos.le(q);                                                          // (T, S)
        var self = kpos.eq(q);
        Tensor mask = causal.unsqueeze(0).unsqueeze(0);                                  // (1, 1, T, S)
        if (keyPadding is not null)
            mask = mask.logical_and(keyPadding.unsqueeze(1).unsqueeze(1)).logical_or(self.unsqueeze(0).unsqueeze(0));
        return mask.MoveToOuterDisposeScope();
    }

    /// <summary>Positions (B, S) for a left-padded batch: each row counts from 0 at its first real token.</summary>
    public static Tensor PositionsFromPadding(Tensor keyPadding)
    {
        using var scope = NewDisposeScope();
        return (keyPadding.to_type(ScalarType.Int64).cumsum(1) - 1).clamp_min(0).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Block-diagonal causal mask (B, 1, T, T) for sequence packing: a token sees earlier tokens of its own segment only.
    /// <paramref name="segmentIds"/> (B, T) int64 numbers the examples packed into each row.
    /// </summary>
    public static Tensor Packed(Tensor segmentIds)
    {
        using var scope = NewDisposeScope();
        var T = segmentIds.shape[1];
        var same = segmentIds.unsqueeze(2).eq(segmentIds.unsqueeze(1));                    // (B, T, T)
        var causal = ones(T, T, dtype: ScalarType.Bool, device: segmentIds.device).tril(); // (T, T)
        return same.logical_and(causal).unsqueeze(1).MoveToOuterDisposeScope();
    }

    /// <summary>Positions (B, T) that restart at 0 at each packed segment's first token.</summary>
    public static Tensor PackedPositions(Tensor segmentIds)
    {
        using var scope = NewDisposeScope();
        var T = segmentIds.shape[1];
        var idx = arange(T, dtype: ScalarType.Int64, device: segmentIds.device).unsqueeze(0).expand_as(segmentIds);
        var starts = ones_like(segmentIds, dtype: ScalarType.Bool);
        starts[.., TensorIndex.Slice(1)] = segmentIds[.., TensorIndex.Slice(1)].ne(segmentIds[.., TensorIndex.Slice(0, -1)]);
        // For each token, the index of its segment's first token is the running max of start indices.
        var startIdx = where(starts, idx, zeros_like(idx)).cummax(1).values;
        return (idx - startIdx).MoveToOuterDisposeScope();
    }
}
