using TorchSharp;
using static TorchSharp.torch;

namespace PostTrain.Model.Training;

/// <summary>Parses the <c>--device</c> option: <c>cpu</c>, <c>cuda</c> or <c>cuda:N</c>.</summary>
public static class DeviceOptions
{
    /// <exception cref="ArgumentException">Unknown device, or CUDA requested where libtorch sees no GPU (names the value and why).</exception>
    public static Device Parse(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var v = value.Trim().ToLowerInvariant();
        if (v == "cpu") return CPU;
        if (v == "cuda" || v.StartsWith("cuda:", StringComparison.Ordinal))
        {
            var index = 0;
            if (v.Length > 4 && (!int.TryParse(v.AsSpan(5), out index) || index < 0))
                throw new ArgumentException($"device '{value}': expected cuda:N with N a non-negative integer", nameof(value));
            if (!cuda.is_available())
                throw new ArgumentException($"device '{value}': CUDA is not available (torch.cuda.is_available() is false; this build uses the CPU libtorch or no GPU is visible). Use --device cpu.", nameof(value));
            var count = cuda.device_count();
            if (index >= count)
                throw new ArgumentException($"device '{value}': GPU index {index} out of range, {count} CUDA device(s) visible", nameof(value));
            return new Device(DeviceType.CUDA, index);
        }
        throw new ArgumentException($"device '{value}': expected cpu, cuda or cuda:N", nameof(value));
    }
}
