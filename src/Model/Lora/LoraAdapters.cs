using PostTrain.Model.Checkpoints;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace PostTrain.Model.Lora;

/// <summary>
/// LoRA adapters on a <see cref="LlamaForCausalLM"/>: each target projection y = W·x becomes y = W·x + s·B·(A·x), added
/// by a forward hook on the projection, so the network's code and its state dict stay those of the base. The base
/// weights are frozen; only A and B train (a rank-16 adapter on Llama-3.2-1B is 11M parameters against 1.2B).
/// <see cref="Enabled"/> = false gives back the base exactly: DPO's reference is the policy with its adapters off, not a
/// second model. <see cref="Merge"/> folds s·B·A into W for export; <see cref="Save"/> writes PEFT's layout.
/// </summary>
public sealed class LoraAdapters : IDisposable
{
    public const string ConfigFile = "adapter_config.json";
    public const string WeightsFile = "adapter_model.safetensors";

    private sealed record Slot(string Name, Linear Layer, Parameter A, Parameter B, Action RemoveHook);

    private readonly List<Slot> slots = [];
    private bool merged;

    public LoraConfig Config { get; }

    /// <summary>False: every hooked projection returns the base output alone.</summary>
    public bool Enabled { get; set; } = true;

    private LoraAdapters(LoraConfig config) => Config = config;

    /// <summary>
    /// Freezes <paramref name="model"/>'s weights and hooks a fresh adapter on each target projection of every layer:
    /// A drawn as PEFT does (Kaiming-uniform, a = √5, like nn.Linear), B = 0, so the adapted model starts equal to the base.
    /// </summary>
    public static LoraAdapters Attach(LlamaForCausalLM model, LoraConfig config)
    {
        ArgumentNullException.ThrowIfNull(model);
        config.Validate();
        var adapters = new LoraAdapters(config);
        foreach (var p in model.parameters()) p.requires_grad = false;
        foreach (var (name, layer) in Targets(model, config))
        {
            var device = layer.weight!.device;
            var (outF, inF) = (layer.weight.shape[0], layer.weight.shape[1]);
            var a = new Parameter(empty(config.Rank, inF, device: device));
            using (no_grad()) nn.init.kaiming_uniform_(a, Math.Sqrt(5));
            var b = new Parameter(zeros(outF, config.Rank, device: device));
            adapters.Add(name, layer, a, b);
        }
        return adapters;
    }

    /// <summary>Reads a PEFT adapter directory and hooks it on <paramref name="model"/> (whose weights it freezes).</summary>
    public static LoraAdapters Load(string dir, LlamaForCausalLM model)
    {
        var config = LoraConfig.Load(Path.Combine(dir, ConfigFile));
        var path = Path.Combine(dir, WeightsFile);
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: missing; a PEFT adapter needs {WeightsFile}", path);
        using var file = SafeTensorsFile.Open(path);
        var targets = Targets(model, config).ToList();
        var expected = targets.SelectMany(t => new[] { PeftName(t.Name, "A"), PeftName(t.Name, "B") }).ToHashSet(StringComparer.Ordinal);
        foreach (var name in file.Names)
            if (!expected.Contains(name)) throw new InvalidDataException($"{path}: unexpected tensor '{name}'; target_modules {string.Join(",", config.TargetModules)} name only lora_A/lora_B of those projections");
        var adapters = new LoraAdapters(config);
        foreach (var p in model.parameters()) p.requires_grad = false;
        try
        {
            foreach (var (name, layer) in targets)
            {
                var (outF, inF) = (layer.weight!.shape[0], layer.weight.shape[1]);
                Tensor Read(string part, long[] shape)
                {
                    var key = PeftName(name, part);
                    if (!file.Contains(key)) throw new InvalidDataException($"{path}: missing tensor '{key}' (expected shape [{string.Join(", ", shape)}])");
                    var info = file.Info(key);
                    if (!info.Shape.SequenceEqual(shape))
                        throw new InvalidDataException($"{path}: tensor '{key}' has shape [{string.Join(", ", info.Shape)}], expected [{string.Join(", ", shape)}] for r = {config.Rank}");
                    return file.Read(key).to(layer.weight.device);
                }
                adapters.Add(name, layer, new Parameter(Read("A", [config.Rank, inF])), new Parameter(Read("B", [outF, config.Rank])));
            }
        }
        catch
        {
            adapters.Dispose();
            throw;
        }
        return adapters;
    }

    private void Add(string name, Linear layer, Parameter a, Parameter b)
    {
        var scaling = Config.Scaling;
        var dropout = Config.Dropout;
        // y + s·B·(A·x); x is the projection's input, (…, in) → (…, r) → (…, out).
        var hook = layer.register_forward_hook((module, x, y) =>
        {
            if (!Enabled || merged) return y;
            var h = dropout > 0 ? F.dropout(x, dropout, module.training) : x;
            return y + scaling * F.linear(F.linear(h, a), b);
        });
        slots.Add(new Slot(name, layer, a, b, hook.remove));
    }

    /// <summary>The trainable tensors, A and B of every target in layer order.</summary>
    public IEnumerable<Parameter> Parameters() => slots.SelectMany(s => new[] { s.A, s.B });

    public long ParameterCount() => Parameters().Sum(p => p.numel());

    /// <summary>
    /// Folds each adapter into its base weight, W ← W + s·B·A, and retires the hooks: the model then computes what the
    /// adapted model did, with no adapter, ready for <c>Checkpoint.Save</c>.
    /// </summary>
    public void Merge()
    {
        if (merged) throw new InvalidOperationException("these adapters are already merged into the base weights");
        using (no_grad())
            foreach (var s in slots)
            {
                using var scope = NewDisposeScope();
                s.Layer.weight!.add_(Config.Scaling * s.B.matmul(s.A));
            }
        merged = true;
        foreach (var s in slots) s.RemoveHook();
    }

    /// <summary>PEFT's key of one adapter matrix: <c>base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight</c>.</summary>
    public static string PeftName(string target, string part) => $"base_model.model.{target}.lora_{part}.weight";

    /// <summary>Writes <c>adapter_config.json</c> and <c>adapter_model.safetensors</c> into <paramref name="dir"/>, temp-then-rename.</summary>
    public void Save(string dir)
    {
        if (merged) throw new InvalidOperationException("these adapters are merged into the base weights; save the model instead");
        AtomicFile.WriteDirectory(dir, tmp =>
        {
            File.WriteAllText(Path.Combine(tmp, ConfigFile), Config.ToJson());
            var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
            foreach (var s in slots)
            {
                tensors[PeftName(s.Name, "A")] = s.A;
                tensors[PeftName(s.Name, "B")] = s.B;
            }
            using var stream = new FileStream(Path.Combine(tmp, WeightsFile), FileMode.CreateNew);
            SafeTensors.Write(stream, tensors, new Dictionary<string, string> { ["format"] = "pt" });
        });
    }

    /// <summary>Each target projection of each layer with its HF name (<c>model.layers.3.mlp.up_proj</c>).</summary>
    private static IEnumerable<(string Name, Linear Layer)> Targets(LlamaForCausalLM model, LoraConfig config)
    {
        for (var i = 0; i < model.model.layers.Count; i++)
        {
            var block = model.model.layers[i];
            foreach (var target in config.TargetModules)
            {
                var (group, layer) = target switch
                {
                    "q_proj" => ("self_attn", block.self_attn.q_proj),
                    "k_proj" => ("self_attn", block.self_attn.k_proj),
                    "v_proj" => ("self_attn", block.self_attn.v_proj),
                    "o_proj" => ("self_attn", block.self_attn.o_proj),
                    "gate_proj" => ("mlp", block.mlp.gate_proj),
                    "up_proj" => ("mlp", block.mlp.up_proj),
                    "down_proj" => ("mlp", block.mlp.down_proj),
                    _ => throw new ArgumentException($"target_modules: '{target}' is not a Llama projection; expected one of {string.Join(", ", LoraConfig.AllTargets)}"),
                };
                yield return ($"model.layers.{i}.{group}.{target}", layer);
            }
        }
    }

    public void Dispose()
    {
        foreach (var s in slots)
        {
            if (!merged) s.RemoveHook();
            s.A.Dispose();
            s.B.Dispose();
        }
        slots.Clear();
    }
}
