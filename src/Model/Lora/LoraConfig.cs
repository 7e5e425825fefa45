using System.Text.Json;
using System.Text.Json.Serialization;

namespace PostTrain.Model.Lora;

/// <summary>
/// A LoRA adapter's settings (Hu et al. 2021) as PEFT writes them to <c>adapter_config.json</c>, so an adapter trained
/// here loads with <c>PeftModel.from_pretrained</c> and one trained with PEFT loads here. The update of a target weight
/// W (out × in) is ΔW = scaling · B·A with A (r × in), B (out × r) and scaling = lora_alpha / r (or / √r with rsLoRA).
/// PEFT options that change the maths and are not implemented (DoRA, biases, per-layer patterns) are refused by name.
/// </summary>
public sealed record LoraConfig
{
    /// <summary>The projections LoRA can target in a Llama block.</summary>
    public static IReadOnlyList<string> AllTargets { get; } = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"];

    [JsonPropertyName("peft_type")] public string PeftType { get; init; } = "LORA";
    /// <summary>CAUSAL_LM for a policy.</summary>
    [JsonPropertyName("task_type")] public string TaskType { get; init; } = "CAUSAL_LM";
    /// <summary>Rank r of A and B.</summary>
    [JsonPropertyName("r")] public int Rank { get; init; } = 16;
    /// <summary>α; the update is scaled by α / r, so changing r does not change the initial step size (Hu et al. sec. 4.1).</summary>
    [JsonPropertyName("lora_alpha")] public double Alpha { get; init; } = 32;
    /// <summary>Dropout on the adapter's input during training (PEFT lora_dropout).</summary>
    [JsonPropertyName("lora_dropout")] public double Dropout { get; init; }
    [JsonPropertyName("target_modules")] public string[] TargetModules { get; init; } = [.. AllTargets];
    /// <summary>Rank-stabilised scaling α / √r (Kalajdzievski 2023).</summary>
    [JsonPropertyName("use_rslora")] public bool UseRsLora { get; init; }
    [JsonPropertyName("bias")] public string Bias { get; init; } = "none";
    [JsonPropertyName("fan_in_fan_out")] public bool FanInFanOut { get; init; }
    [JsonPropertyName("use_dora")] public bool UseDora { get; init; }
    [JsonPropertyName("base_model_name_or_path")] public string? BaseModelNameOrPath { get; init; }
    [JsonPropertyName("inference_mode")] public bool InferenceMode { get; init; } = true;
    /// <summary>PEFT keys not declared here; refused unless null or empty, since each changes which weights adapt or how.</summary>
    [JsonExtensionData] public Dictionary<string, JsonElement>? OtherKeys { get; init; }

    [JsonIgnore] public double Scaling => UseRsLora ? Alpha / Math.Sqrt(Rank) : Alpha / Rank;

    /// <summary>
    /// The adapter a trainer's options ask for (rank, α, comma-separated targets); null when <paramref name="rank"/> is 0
    /// (full fine-tuning). Throws naming <paramref name="owner"/>'s field when one is out of range.
    /// </summary>
    public static LoraConfig? FromOptions(int rank, double alpha, string? targets, string owner)
    {
        void Check(bool ok, string field, object? actual, string expected)
        {
            if (!ok) throw new ArgumentException($"{owner}.{field} is {actual}, expected {expected}");
        }
        var names = targets?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries) ?? [];
        Check(rank >= 0, "LoraRank", rank, ">= 0 (0 = full fine-tuning)");
        Check(alpha > 0 && double.IsFinite(alpha), "LoraAlpha", alpha, "a finite number > 0");
        Check(names.Length > 0 && names.All(AllTargets.Contains) && names.Distinct().Count() == names.Length, "LoraTargets", $"\"{targets}\"",
            $"a comma-separated list of distinct names among {string.Join(", ", AllTargets)}");
        return rank > 0 ? new LoraConfig { Rank = rank, Alpha = alpha, TargetModules = names } : null;
    }

    /// <summary>PEFT bookkeeping keys that do not change the adapter's maths.</summary>
    private static readonly HashSet<string> Harmless = new(StringComparer.Ordinal)
    {
        "revision", "auto_mapping", "init_lora_weights", "lora_bias", "megatron_config", "megatron_core", "loftq_config",
        "layer_replication", "runtime_config", "eva_config", "corda_config", "exclude_modules", "trainable_token_indices",
        "qalora_group_size", "target_parameters", "peft_version", "layers_pattern",
    };

    /// <summary>Throws naming <paramref name="source"/>, the field, the value and what is expected.</summary>
    public LoraConfig Validate(string source = "LoRA config")
    {
        void Check(bool ok, string field, object? actual, string expected)
        {
            if (!ok) throw new InvalidDataException($"{source}: {field} is {actual ?? "null"}, expected {expected}");
        }
        Check(PeftType == "LORA", "peft_type", PeftType, "LORA");
        Check(Rank >= 1, "r", Rank, ">= 1");
        Check(Alpha > 0 && double.IsFinite(Alpha), "lora_alpha", Alpha, "a finite number > 0");
        Check(Dropout is >= 0 and < 1, "lora_dropout", Dropout, "in [0, 1)");
        Check(TargetModules is { Length: > 0 } && TargetModules.All(AllTargets.Contains) && TargetModules.Distinct().Count() == TargetModules.Length,
            "target_modules", TargetModules is null ? null : $"[{string.Join(", ", TargetModules)}]", $"distinct names among {string.Join(", ", AllTargets)}");
        Check(Bias == "none", "bias", Bias, "\"none\" (adapter biases are not implemented)");
        Check(!FanInFanOut, "fan_in_fan_out", FanInFanOut, "false (Llama's Linear stores (out, in))");
        Check(!UseDora, "use_dora", UseDora, "false (DoRA is not implemented)");
        foreach (var (key, value) in OtherKeys ?? [])
        {
            var empty = value.ValueKind is JsonValueKind.Null or JsonValueKind.False
                || (value.ValueKind == JsonValueKind.Object && !value.EnumerateObject().Any())
                || (value.ValueKind == JsonValueKind.Array && value.GetArrayLength() == 0);
            if (!empty && !Harmless.Contains(key))
                throw new InvalidDataException($"{source}: {key} is {value.GetRawText()}, which PostTrain does not implement; expected it absent or empty");
        }
        return this;
    }

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static LoraConfig Load(string path)
    {
        LoraConfig? config;
        try { config = JsonSerializer.Deserialize<LoraConfig>(File.ReadAllText(path)); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: not a valid PEFT adapter_config.json: {e.Message}", e); }
        return (config ?? throw new InvalidDataException($"{path}: empty adapter config")).Validate(path);
    }
}
