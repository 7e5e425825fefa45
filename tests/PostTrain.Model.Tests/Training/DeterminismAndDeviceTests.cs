using PostTrain.Model.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace PostTrain.Model.Tests.Training;

public class DeterminismAndDeviceTests
{
    [Fact]
    public void Seed_SameSeed_SameDrawsAndDifferentSeedDiffers()
    {
        Determinism.Seed(11);
        using var a = randn(16);
        Determinism.Seed(11);
        using var b = randn(16);
        Determinism.Seed(12);
        using var c = randn(16);
        Assert.True(a.equal(b).all().item<bool>());
        Assert.False(a.equal(c).all().item<bool>());
    }

    [Fact]
    public void Parse_Cpu_ReturnsCpuDevice()
    {
        Assert.Equal(DeviceType.CPU, DeviceOptions.Parse("cpu").type);
        Assert.Equal(DeviceType.CPU, DeviceOptions.Parse(" CPU ").type);
    }

    [Theory]
    [InlineData("gpu", "expected cpu, cuda or cuda:N")]
    [InlineData("cuda:x", "cuda:N with N a non-negative integer")]
    public void Parse_Unknown_ThrowsNamingValue(string value, string fragment)
    {
        var e = Assert.Throws<ArgumentException>(() => DeviceOptions.Parse(value));
        Assert.Contains($"'{value}'", e.Message);
        Assert.Contains(fragment, e.Message);
    }

    [Fact]
    public void Parse_Cuda_ReturnsCudaOrExplainsItIsUnavailable()
    {
        if (cuda.is_available())
        {
            Assert.Equal(DeviceType.CUDA, DeviceOptions.Parse("cuda:0").type);
            return;
        }
        var e = Assert.Throws<ArgumentException>(() => DeviceOptions.Parse("cuda:1"));
        Assert.Contains("CUDA is not available", e.Message);
        Assert.Contains("'cuda:1'", e.Message);
    }
}
