using System.Text;
using PostTrain.Model.Checkpoints;
using static TorchSharp.torch;

namespace PostTrain.Model.Tests.Checkpoints;

public class SafeTensorsTests
{
    [Fact]
    public void WriteRead_FloatIntAndMetadata_RoundTripsExactly()
    {
        using var dir = new TempDir();
        manual_seed(3);
        var tensors = new Dictionary<string, Tensor>
        {
            ["b.weight"] = randn(3, 5),
            ["a.ids"] = tensor(new long[] { 1, -2, 3_000_000_000 }),
            ["scalar"] = tensor(2.5f),
            ["empty"] = zeros(0, 4),
        };
        SafeTensors.Write(dir["t.safetensors"], tensors, new Dictionary<string, string> { ["format"] = "pt", ["note"] = "héllo" });

        var back = SafeTensors.ReadAll(dir["t.safetensors"], out var meta);
        Assert.Equal(["a.ids", "b.weight", "empty", "scalar"], back.Keys.Order().ToArray());
        Assert.Equal("héllo", meta["note"]);
        Assert.True(back["b.weight"].equal(tensors["b.weight"]).all().item<bool>());
        Assert.Equal(ScalarType.Int64, back["a.ids"].dtype);
        Assert.Equal(3_000_000_000, back["a.ids"][2].item<long>());
        Assert.Empty(back["scalar"].shape);
        Assert.Equal([0L, 4L], back["empty"].shape);

        // Header padded to 8 bytes with spaces, and a rewrite is byte-identical.
        var bytes = File.ReadAllBytes(dir["t.safetensors"]);
        var headerLength = BitConverter.ToInt64(bytes, 0);
        Assert.Equal(0, headerLength % 8);
        SafeTensors.Write(dir["u.safetensors"], back, meta);
        Assert.Equal(bytes, File.ReadAllBytes(dir["u.safetensors"]));
    }

    [Fact]
    public void Read_Bf16AndF16_ConvertToFloat32()
    {
        using var dir = new TempDir();
        var values = new float[] { 1.0f, -2.5f, 0.15625f, 1024f };
        var bf16 = values.SelectMany(v => BitConverter.GetBytes((ushort)(BitConverter.SingleToUInt32Bits(v) >> 16))).ToArray();
        var f16 = values.SelectMany(v => BitConverter.GetBytes(BitConverter.HalfToUInt16Bits((Half)v))).ToArray();
        File.WriteAllBytes(dir["h.safetensors"], Build(
            """{"x":{"dtype":"BF16","shape":[2,2],"data_offsets":[0,8]},"y":{"dtype":"F16","shape":[4],"data_offsets":[8,16]}}""",
            bf16.Concat(f16).ToArray()));
        var t = SafeTensors.ReadAll(dir["h.safetensors"]);
        Assert.Equal(ScalarType.Float32, t["x"].dtype);
        Assert.Equal(values, t["x"].reshape(-1).data<float>().ToArray());
        Assert.Equal(values, t["y"].data<float>().ToArray());
    }

    public static TheoryData<string, string, int, string[]> BadFiles => new()
    {
        // name, header, data bytes, fragments the message must contain
        { "malformed json", """{"x":{"dtype":"F32",""", 4, ["not valid JSON"] },
        { "unknown dtype", """{"x":{"dtype":"F8","shape":[1],"data_offsets":[0,1]}}""", 1, ["'x'", "dtype", "F8"] },
        { "size mismatch", """{"x":{"dtype":"F32","shape":[2,3],"data_offsets":[0,20]}}""", 20, ["'x'", "[2, 3]", "24 bytes", "20 bytes"] },
        { "out of range", """{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", 4, ["'x'", "truncated"] },
        { "overlap", """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}""", 12, ["'b'", "overlap", "'a'"] },
    };

    [Theory]
    [MemberData(nameof(BadFiles))]
    public void Open_BadFile_ThrowsNamingFileAndTensor(string name, string header, int dataBytes, string[] fragments)
    {
        using var dir = new TempDir();
        var path = dir[name.Replace(' ', '_') + ".safetensors"];
        File.WriteAllBytes(path, Build(header, new byte[dataBytes]));
        var e = Assert.Throws<InvalidDataException>(() => SafeTensors.ReadAll(path));
        Assert.Contains(path, e.Message);
        foreach (var f in fragments) Assert.Contains(f, e.Message);
    }

    [Fact]
    public void Open_HeaderLengthBeyondFile_ThrowsNamingFile()
    {
        using var dir = new TempDir();
        var path = dir["long.safetensors"];
        File.WriteAllBytes(path, BitConverter.GetBytes(1000L).Concat(Encoding.UTF8.GetBytes("{}")).ToArray());
        var e = Assert.Throws<InvalidDataException>(() => SafeTensors.ReadAll(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("header length 1000", e.Message);
    }

    [Fact]
    public void Open_TruncatedWrittenFile_ThrowsNamingTensor()
    {
        using var dir = new TempDir();
        var path = dir["t.safetensors"];
        SafeTensors.Write(path, new Dictionary<string, Tensor> { ["a"] = ones(4), ["z.last"] = ones(16) });
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^10]);
        var e = Assert.Throws<InvalidDataException>(() => SafeTensors.ReadAll(path));
        Assert.Contains("'z.last'", e.Message);
        Assert.Contains("truncated", e.Message);
    }

    private static byte[] Build(string header, byte[] data)
    {
        var h = Encoding.UTF8.GetBytes(header);
        return BitConverter.GetBytes((long)h.Length).Concat(h).Concat(data).ToArray();
    }
}
