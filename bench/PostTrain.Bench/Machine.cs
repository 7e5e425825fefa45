using System.Reflection;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using static TorchSharp.torch;

namespace PostTrain.Bench;

/// <summary>What the figures were taken on: CPU model, cores, threads and library versions.</summary>
internal static class Machine
{
    public static JsonObject Describe()
    {
        var cpu = "unknown";
        var flags = "";
        if (File.Exists("/proc/cpuinfo"))
            foreach (var line in File.ReadLines("/proc/cpuinfo"))
            {
                if (line.StartsWith("model name", StringComparison.Ordinal) && cpu == "unknown") cpu = line[(line.IndexOf(':') + 1)..].Trim();
                if (line.StartsWith("flags", StringComparison.Ordinal) && flags.Length == 0) flags = line[(line.IndexOf(':') + 1)..];
            }
        var simd = new[] { "avx2", "fma", "avx512f", "avx512_bf16", "amx_tile" }.Where(f => flags.Split(' ').Contains(f)).ToArray();
        return new JsonObject
        {
            ["cpu_model"] = cpu,
            ["cpu_flags"] = string.Join(",", simd),
            ["logical_cores"] = Environment.ProcessorCount,
            ["torch_threads"] = get_num_threads(),
            ["load_average_at_start"] = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : null,
            ["os"] = RuntimeInformation.OSDescription,
            ["env"] = new JsonObject
            {
                ["OMP_WAIT_POLICY"] = Environment.GetEnvironmentVariable("OMP_WAIT_POLICY"),
                ["OMP_NUM_THREADS"] = Environment.GetEnvironmentVariable("OMP_NUM_THREADS"),
                ["GOMP_SPINCOUNT"] = Environment.GetEnvironmentVariable("GOMP_SPINCOUNT"),
            },
        };
    }

    public static JsonObject Versions() => new()
    {
        ["dotnet"] = RuntimeInformation.FrameworkDescription,
        ["torchsharp"] = typeof(TorchSharp.torch).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
            ?? typeof(TorchSharp.torch).Assembly.GetName().Version?.ToString(),
        ["libtorch"] = LibTorchVersion(),
    };

    /// <summary>The libtorch package the app was built against, read from its deps.json (TorchSharp exposes no version call).</summary>
    private static string LibTorchVersion()
    {
        var deps = Path.Combine(AppContext.BaseDirectory, "posttrain-bench.deps.json");
        if (!File.Exists(deps)) return "unknown (no deps.json)";
        using var doc = JsonDocument.Parse(File.ReadAllText(deps));
        foreach (var target in doc.RootElement.GetProperty("libraries").EnumerateObject())
            if (target.Name.StartsWith("libtorch-", StringComparison.Ordinal)) return target.Name;
        return "unknown";
    }
}
