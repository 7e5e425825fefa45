using System.Text.Json;
using System.Text.Json.Serialization;
using PostTrain.Model.Checkpoints;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PostTrain.Model.Training;

/// <summary>
/// Everything beyond the weights that an exact resume needs: the step, the position in the data stream, AdamW's moments
/// and per-parameter step counts, each group's learning rate, and libtorch's CPU RNG state. Saved as a directory
/// (written temp-then-rename) holding <c>optimizer.safetensors</c> (<c>exp_avg.{param}</c>, <c>exp_avg_sq.{param}</c>,
/// keyed by HF parameter name, not by position) and <c>training_state.json</c>.
/// Resuming with the same thread count (<see cref="Determinism"/>) gives bitwise the weights of an unbroken run.
/// </summary>
public sealed record TrainingState(long Step, long DataPosition)
{
    public const string MomentsFile = "optimizer.safetensors";
    public const string StateFile = "training_state.json";

    private sealed class Json
    {
        [JsonPropertyName("step")] public long Step { get; set; }
        [JsonPropertyName("data_position")] public long DataPosition { get; set; }
        [JsonPropertyName("rng_state")] public string RngState { get; set; } = "";
        [JsonPropertyName("adam_steps")] public SortedDictionary<string, long> AdamSteps { get; set; } = new(StringComparer.Ordinal);
        [JsonPropertyName("learning_rates")] public List<double> LearningRates { get; set; } = [];
    }

    public static bool Exists(string dir) => File.Exists(Path.Combine(dir, StateFile)) && File.Exists(Path.Combine(dir, MomentsFile));

    /// <summary>Writes this state plus <paramref name="optimizer"/>'s moments and the RNG state into <paramref name="dir"/> atomically.</summary>
    public void Save(string dir, nn.Module model, AdamW optimizer)
    {
        var states = NamedStates(model, optimizer);
        var json = new Json
        {
            Step = Step,
            DataPosition = DataPosition,
            LearningRates = optimizer.ParamGroups.Select(g => g.LearningRate).ToList(),
        };
        using (var rng = get_rng_state()) json.RngState = Convert.ToBase64String(rng.bytes.ToArray());
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, s) in states)
        {
            if (s.max_exp_avg_sq is not null) throw new NotSupportedException($"parameter '{name}': AMSGrad state is not saved; PostTrain trains with amsgrad=false");
            tensors["exp_avg." + name] = s.exp_avg;
            tensors["exp_avg_sq." + name] = s.exp_avg_sq;
            json.AdamSteps[name] = s.step;
        }
        AtomicFile.WriteDirectory(dir, tmp =>
        {
            SafeTensors.Write(Path.Combine(tmp, MomentsFile), tensors);
            File.WriteAllText(Path.Combine(tmp, StateFile), JsonSerializer.Serialize(json, new JsonSerializerOptions { WriteIndented = true }));
        });
    }

    /// <summary>
    /// Restores <paramref name="optimizer"/> (built over <paramref name="model"/>'s parameters) and the RNG state from
    /// <paramref name="dir"/>, and returns the step and data position to continue from.
    /// </summary>
    public static TrainingState Load(string dir, nn.Module model, AdamW optimizer)
    {
        var jsonPath = Path.Combine(dir, StateFile);
        var momentsPath = Path.Combine(dir, MomentsFile);
        if (!File.Exists(jsonPath)) throw new FileNotFoundException($"{jsonPath}: missing; not a training-state directory", jsonPath);
        Json json;
        try { json = JsonSerializer.Deserialize<Json>(File.ReadAllText(jsonPath)) ?? throw new InvalidDataException($"{jsonPath}: null"); }
        catch (JsonException e) { throw new InvalidDataException($"{jsonPath}: not a training state: {e.Message}", e); }

        var states = NamedStates(model, optimizer);
        var groups = optimizer.ParamGroups.ToList();
        if (json.LearningRates.Count != groups.Count)
            throw new InvalidDataException($"{jsonPath}: learning_rates has {json.LearningRates.Count} parameter groups, the optimizer has {groups.Count}");
        using var file = SafeTensorsFile.Open(momentsPath);
        var expected = new HashSet<string>(states.Keys.SelectMany(n => new[] { "exp_avg." + n, "exp_avg_sq." + n }), StringComparer.Ordinal);
        foreach (var name in file.Names)
            if (!expected.Contains(name)) throw new InvalidDataException($"{momentsPath}: unexpected tensor '{name}'; the model has no such parameter");
        using (no_grad())
        {
            foreach (var (name, s) in states)
            {
                if (!json.AdamSteps.TryGetValue(name, out var step))
                    throw new InvalidDataException($"{jsonPath}: adam_steps lacks parameter '{name}'");
                foreach (var (key, target) in new[] { ("exp_avg." + name, s.exp_avg), ("exp_avg_sq." + name, s.exp_avg_sq) })
                {
                    if (!file.Contains(key)) throw new InvalidDataException($"{momentsPath}: missing tensor '{key}' (expected shape [{string.Join(", ", target.shape)}])");
                    var info = file.Info(key);
                    if (!info.Shape.SequenceEqual(target.shape))
                        throw new InvalidDataException($"{momentsPath}: tensor '{key}' has shape [{string.Join(", ", info.Shape)}], expected [{string.Join(", ", target.shape)}]");
                    using var scope = NewDisposeScope();
                    target.copy_(file.Read(key));
                }
                s.step = step;
            }
        }
        for (var i = 0; i < groups.Count; i++) groups[i].LearningRate = json.LearningRates[i];
        var rngBytes = Convert.FromBase64String(json.RngState);
        using (var current = get_rng_state())
        {
            if (current.numel() != rngBytes.Length)
                throw new InvalidDataException($"{jsonPath}: rng_state is {rngBytes.Length} bytes, this libtorch's CPU generator state is {current.numel()}");
            using var rng = empty(rngBytes.Length, ScalarType.Byte);
            rng.bytes = rngBytes;
            set_rng_state(rng);
        }
        return new TrainingState(json.Step, json.DataPosition);
    }

    /// <summary>AdamW's live per-parameter state keyed by the model's parameter names (matched by native handle).</summary>
    private static Dictionary<string, AdamW.State> NamedStates(nn.Module model, AdamW optimizer)
    {
        var names = new Dictionary<IntPtr, string>();
        foreach (var (name, p) in model.named_parameters()) names[p.Handle] = name;
        var sd = optimizer.state_dict();
        var parameters = optimizer.ParamGroups.Cast<ParamGroup>().SelectMany(g => g.Parameters).ToList();
        if (parameters.Count != sd.State.Count)
            throw new InvalidOperationException($"optimizer has {parameters.Count} parameters but {sd.State.Count} states");
        var result = new Dictionary<string, AdamW.State>(StringComparer.Ordinal);
        for (var i = 0; i < parameters.Count; i++)
        {
            if (!names.TryGetValue(parameters[i].Handle, out var name))
                throw new ArgumentException($"optimizer parameter #{i} (shape [{string.Join(", ", parameters[i].shape)}]) is not a parameter of the model", nameof(optimizer));
            result[name] = (AdamW.State)sd.State[i];
        }
        return result;
    }
}
