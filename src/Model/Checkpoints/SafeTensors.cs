using System.Text;
using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace PostTrain.Model.Checkpoints;

/// <summary>
/// Reads and writes the safetensors format. Writing is deterministic: tensors are sorted by name, floats are stored as
/// F32 (or the <see cref="WeightsDtype"/> asked for) and integers as I64, and the header is padded with spaces to 8-byte alignment, so the same weights always give
/// the same bytes (and so the same checkpoint hash).
/// </summary>
public static class SafeTensors
{
    /// <summary>Reads every tensor (floating types as float32) plus the <c>__metadata__</c> map.</summary>
    public static Dictionary<string, Tensor> ReadAll(string path, out IReadOnlyDictionary<string, string> metadata)
    {
        using var file = SafeTensorsFile.Open(path);
        metadata = file.Metadata;
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            foreach (var name in file.Names) result[name] = file.Read(name);
        }
        catch
        {
            foreach (var t in result.Values) t.Dispose();
            throw;
        }
        return result;
    }

    public static Dictionary<string, Tensor> ReadAll(string path) => ReadAll(path, out _);

    /// <summary>Writes <paramref name="tensors"/> to <paramref name="path"/> temp-then-rename. Floating tensors become F32, integer ones I64, bool BOOL.</summary>
    public static void Write(string path, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null,
        WeightsDtype floats = WeightsDtype.F32) =>
        AtomicFile.Write(path, stream => Write(stream, tensors, metadata, floats));

    /// <summary>Bytes the tensor data of <paramref name="t"/> takes when written with floats as <paramref name="floats"/>.</summary>
    public static long StoredBytes(Tensor t, WeightsDtype floats = WeightsDtype.F32) => t.numel() * SafeTensorsFile.DtypeSize(StoredType(t, floats).Dtype)!.Value;

    private static (string Dtype, ScalarType Type) StoredType(Tensor t, WeightsDtype floats, string name = "") => t.dtype switch
    {
        ScalarType.Bool => ("BOOL", ScalarType.Bool),
        ScalarType.Byte or ScalarType.Int8 or ScalarType.Int16 or ScalarType.Int32 or ScalarType.Int64 => ("I64", ScalarType.Int64),
        _ when is_floating_point(t) => floats switch
        {
            WeightsDtype.BF16 => ("BF16", ScalarType.BFloat16),
            WeightsDtype.F16 => ("F16", ScalarType.Float16),
            _ => ("F32", ScalarType.Float32),
        },
        _ => throw new ArgumentException($"tensor '{name}' has dtype {t.dtype}, which safetensors writing does not support"),
    };

    public static void Write(Stream stream, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null,
        WeightsDtype floats = WeightsDtype.F32)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("safetensors data is little-endian; this host is big-endian");
        var names = tensors.Keys.OrderBy(n => n, StringComparer.Ordinal).ToArray();
        var entries = new List<(string Name, string Dtype, ScalarType Type, long[] Shape, long Begin, long End)>();
        long offset = 0;
        foreach (var name in names)
        {
            if (name == "__metadata__") throw new ArgumentException("'__metadata__' is reserved and cannot name a tensor", nameof(tensors));
            var t = tensors[name];
            var (dtype, type) = StoredType(t, floats, name);
            var bytes = t.numel() * SafeTensorsFile.DtypeSize(dtype)!.Value;
            entries.Add((name, dtype, type, t.shape, offset, offset + bytes));
            offset += bytes;
        }

        using var headerBuffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(headerBuffer))
        {
            w.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                w.WriteStartObject("__metadata__");
                foreach (var (k, v) in metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal)) w.WriteString(k, v);
                w.WriteEndObject();
            }
            foreach (var e in entries)
            {
                w.WriteStartObject(e.Name);
                w.WriteString("dtype", e.Dtype);
                w.WriteStartArray("shape");
                foreach (var d in e.Shape) w.WriteNumberValue(d);
                w.WriteEndArray();
                w.WriteStartArray("data_offsets");
                w.WriteNumberValue(e.Begin);
                w.WriteNumberValue(e.End);
                w.WriteEndArray();
                w.WriteEndObject();
            }
            w.WriteEndObject();
        }
        var header = headerBuffer.ToArray();
        var padded = (header.Length + 7) / 8 * 8; // the data section starts 8-byte aligned, as the reference writer does
        stream.Write(BitConverter.GetBytes((long)padded));
        stream.Write(header);
        for (var i = header.Length; i < padded; i++) stream.WriteByte((byte)' ');
        foreach (var e in entries)
        {
            using var scope = NewDisposeScope();
            var t = tensors[e.Name].detach();
            if (t.device_type != DeviceType.CPU) t = t.cpu();
            if (t.dtype != e.Type) t = t.to_type(e.Type);
            t = t.contiguous();
            if (t.numel() > 0) stream.Write(t.bytes);
        }
    }
}
