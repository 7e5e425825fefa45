using System.Diagnostics;
using System.Text.Json.Nodes;
using PostTrain.Pretrain;
using static TorchSharp.torch;

namespace PostTrain.Bench;

/// <summary>
/// libtorch's OpenMP threads spin at every parallel region's barrier (GNU default: spin, then sleep). When the cores are
/// shared, a spinning thread waits for a pre-empted sibling and small ops (a decode step is hundreds of them) slow down by
/// an order of magnitude. The wait policy is read once when libgomp loads, so each policy runs in a child process of this
/// harness (same binary, same shapes): the default against OMP_WAIT_POLICY=PASSIVE.
/// </summary>
internal static class ThreadingBench
{
    public const string ChildVariable = "POSTTRAIN_BENCH_CHILD";

    /// <summary>The child's work: one decode step and one pretraining step per preset, as JSON on stdout.</summary>
    public static JsonObject Child(IEnumerable<Workload> workloads)
    {
        var json = new JsonObject();
        foreach (var w in workloads)
        {
            manual_seed(0);
            using var model = new Model.LlamaForCausalLM(w.Config);
            var decode = PeerBench.DecodeStep(model, 8, Math.Min(64, w.Config.MaxPositionEmbeddings / 2), 16, 1);
            model.train();
            using var rows = w.PretrainRows();
            var step = TrainingBench.TimeSteps(model, () => Pretrainer.LanguageModelLoss(model, rows), 1, Math.Min(3, w.Iters));
            json[w.Preset] = new JsonObject { ["decode_step_s"] = decode.MedianSeconds, ["train_step_s"] = step.Total.MedianSeconds };
        }
        return json;
    }

    public static JsonObject Run(string[] args, IEnumerable<Workload> workloads, Table table)
    {
        var policies = new (string Name, string? Value)[] { ("default", null), ("PASSIVE", "PASSIVE") };
        var presets = string.Join(',', workloads.Select(w => w.Preset));
        var results = policies.Select(p => (p.Name, Json: Launch(WithPresets(args, presets), p.Value))).ToList();
        var json = new JsonObject();
        foreach (var w in workloads)
        {
            var d = results[0].Json[w.Preset]!;
            var p = results[1].Json[w.Preset]!;
            foreach (var (what, key) in new[] { ("decode step (8 rows, KV cache)", "decode_step_s"), ("pretraining step", "train_step_s") })
            {
                var (a, b) = (d[key]!.GetValue<double>(), p[key]!.GetValue<double>());
                table.Add(w.Preset, what, a * 1e3, b * 1e3, $"{a / b:F2}x");
            }
            json[w.Preset] = new JsonObject { ["default"] = d.DeepClone(), ["passive"] = p.DeepClone() };
        }
        json["load_average"] = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : null;
        return json;
    }

    /// <summary>The harness's arguments with <c>--presets</c> set to <paramref name="presets"/>, so a child times only those.</summary>
    private static string[] WithPresets(string[] args, string presets)
    {
        var list = args.ToList();
        var i = list.IndexOf("--presets");
        if (i >= 0 && i + 1 < list.Count) list.RemoveRange(i, 2);
        return [.. list, "--presets", presets];
    }

    private static JsonObject Launch(string[] args, string? waitPolicy)
    {
        var exe = Environment.ProcessPath ?? throw new InvalidOperationException("cannot find this harness's executable to relaunch it");
        var psi = new ProcessStartInfo(exe) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment[ChildVariable] = "threading";
        psi.Environment.Remove("OMP_WAIT_POLICY");
        psi.Environment.Remove("GOMP_SPINCOUNT");
        if (waitPolicy is not null) psi.Environment["OMP_WAIT_POLICY"] = waitPolicy;
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {exe}");
        var err = p.StandardError.ReadToEndAsync();
        var output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"threading child (OMP_WAIT_POLICY={waitPolicy ?? "unset"}) exited with {p.ExitCode}: {err.Result.Trim()}");
        var line = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Last();
        return JsonNode.Parse(line)!.AsObject();
    }
}
