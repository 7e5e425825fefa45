using System.Text.Json;
using Microsoft.Win32.SafeHandles;
using static TorchSharp.torch;

namespace PostTrain.Model.Checkpoints;

/// <summary>
/// An open safetensors file (https://github.com/huggingface/safetensors): an 8-byte little-endian header length, a JSON
/// header <c>{name: {dtype, shape, data_offsets}}</c> with an optional <c>__metadata__</c> string map, then raw
/// little-endian data. The header is parsed and validated on open; each tensor is read on demand with one positioned
/// read straight into its native buffer, so a model is never held twice in managed memory.
/// </summary>
public sealed class SafeTensorsFile : IDisposable
{
    /// <summary>Headers above this are refused, as the reference implementation does (100 MB).</summary>
    private const long MaxHeaderBytes = 100_000_000;

    private readonly SafeFileHandle handle;
    private readonly long dataStart;
    private readonly Dictionary<string, SafeTensorInfo> tensors;

    public string Path { get; }
    public IReadOnlyDictionary<string, string> Metadata { get; }
    /// <summary>Tensor names in header order.</summary>
    public IReadOnlyList<string> Names { get; }

    private SafeTensorsFile(string path, SafeFileHandle handle, long dataStart, List<SafeTensorInfo> infos, Dictionary<string, string> metadata)
    {
        Path = path;
        this.handle = handle;
        this.dataStart = dataStart;
        tensors = infos.ToDictionary(i => i.Name, StringComparer.Ordinal);
        Names = infos.Select(i => i.Name).ToArray();
        Metadata = metadata;
    }

    public bool Contains(string name) => tensors.ContainsKey(name);

    public SafeTensorInfo Info(string name) =>
        tensors.TryGetValue(name, out var info) ? info : throw new KeyNotFoundException($"{Path}: no tensor '{name}'");

    /// <summary>
    /// Opens and validates the header: length within the file, well-formed JSON, known dtypes, shape × dtype size equal
    /// to each byte span, spans inside the data section and not overlapping. Every error names the file and the tensor.
    /// </summary>
    public static SafeTensorsFile Open(string path)
    {
        var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        try
        {
            var fileLength = RandomAccess.GetLength(handle);
            if (fileLength < 8) throw new InvalidDataException($"{path}: {fileLength} bytes, too short for the 8-byte safetensors header length");
            Span<byte> lenBytes = stackalloc byte[8];
            RandomAccess.Read(handle, lenBytes, 0);
            var headerLength = BitConverter.ToInt64(lenBytes);
            if (!BitConverter.IsLittleEndian) headerLength = System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(headerLength);
            if (headerLength <= 0 || headerLength > MaxHeaderBytes || 8 + headerLength > fileLength)
                throw new InvalidDataException($"{path}: header length {headerLength} exceeds the file ({fileLength} bytes) or the {MaxHeaderBytes}-byte limit; truncated or not a safetensors file");
            var header = new byte[headerLength];
            RandomAccess.Read(handle, header, 8);
            var dataStart = 8 + headerLength;
            var (infos, metadata) = ParseHeader(path, header, fileLength - dataStart);
            return new SafeTensorsFile(path, handle, dataStart, infos, metadata);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    private static (List<SafeTensorInfo>, Dictionary<string, string>) ParseHeader(string path, byte[] header, long dataLength)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(header); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: safetensors header is not valid JSON: {e.Message}", e); }
        using var _ = doc;
        if (doc.RootElement.ValueKind != JsonValueKind.Object)
            throw new InvalidDataException($"{path}: safetensors header is a JSON {doc.RootElement.ValueKind}, expected an object");
        var infos = new List<SafeTensorInfo>();
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var prop in doc.RootElement.EnumerateObject())
        {
            if (prop.Name == "__metadata__")
            {
                if (prop.Value.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{path}: __metadata__ is a {prop.Value.ValueKind}, expected a string map");
                foreach (var m in prop.Value.EnumerateObject())
                    metadata[m.Name] = m.Value.ValueKind == JsonValueKind.String ? m.Value.GetString()! :
                        throw new InvalidDataException($"{path}: __metadata__.{m.Name} is a {m.Value.ValueKind}, expected a string");
                continue;
            }
            infos.Add(ParseEntry(path, prop));
        }
        // Spans must tile without overlap and stay inside the data section.
        SafeTensorInfo? prev = null;
        foreach (var info in infos.OrderBy(i => i.Begin).ThenBy(i => i.End))
        {
            if (info.End > dataLength)
                throw new InvalidDataException($"{path}: tensor '{info.Name}' data_offsets [{info.Begin}, {info.End}) run past the data section ({dataLength} bytes); the file is truncated");
            if (prev is not null && info.Begin < prev.End && info.ByteLength > 0)
                throw new InvalidDataException($"{path}: tensor '{info.Name}' data_offsets [{info.Begin}, {info.End}) overlap tensor '{prev.Name}' [{prev.Begin}, {prev.End})");
            if (info.ByteLength > 0) prev = info;
        }
        return (infos, metadata);
    }

    private static SafeTensorInfo ParseEntry(string path, JsonProperty prop)
    {
        var name = prop.Name;
        var v = prop.Value;
        string Where(string field) => $"{path}: tensor '{name}' {field}";
        if (v.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{Where("entry")} is a {v.ValueKind}, expected an object");
        if (!v.TryGetProperty("dtype", out var dt) || dt.ValueKind != JsonValueKind.String) throw new InvalidDataException($"{Where("dtype")} is missing or not a string");
        var dtype = dt.GetString()!;
        var size = DtypeSize(dtype) ?? throw new InvalidDataException($"{Where("dtype")} is '{dtype}', expected one of F32, F16, BF16, F64, I64, I32, I16, I8, U8, BOOL");
        if (!v.TryGetProperty("shape", out var sh) || sh.ValueKind != JsonValueKind.Array) throw new InvalidDataException($"{Where("shape")} is missing or not an array");
        var shape = new long[sh.GetArrayLength()];
        var k = 0;
        foreach (var d in sh.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt64(out var dim) || dim < 0) throw new InvalidDataException($"{Where("shape")} has dimension {d}, expected a non-negative integer");
            shape[k++] = dim;
        }
        if (!v.TryGetProperty("data_offsets", out var off) || off.ValueKind != JsonValueKind.Array || off.GetArrayLength() != 2)
            throw new InvalidDataException($"{Where("data_offsets")} is missing or not a [begin, end] pair");
        if (!off[0].TryGetInt64(out var begin) || !off[1].TryGetInt64(out var end) || begin < 0 || end < begin)
            throw new InvalidDataException($"{Where("data_offsets")} is {off}, expected 0 <= begin <= end");
        var info = new SafeTensorInfo(name, dtype, shape, begin, end);
        if (info.ElementCount * size != info.ByteLength)
            throw new InvalidDataException($"{Where("size")}: shape [{string.Join(", ", shape)}] × {size} bytes ({dtype}) = {info.ElementCount * size} bytes, but data_offsets span {info.ByteLength} bytes");
        return info;
    }

    internal static int? DtypeSize(string dtype) => dtype switch
    {
        "F64" or "I64" => 8,
        "F32" or "I32" => 4,
        "F16" or "BF16" or "I16" => 2,
        "I8" or "U8" or "BOOL" => 1,
        _ => null,
    };

    private static ScalarType StorageType(string dtype) => dtype switch
    {
        "F64" => ScalarType.Float64,
        "F32" => ScalarType.Float32,
        "F16" => ScalarType.Float16,
        "BF16" => ScalarType.BFloat16,
        "I64" => ScalarType.Int64,
        "I32" => ScalarType.Int32,
        "I16" => ScalarType.Int16,
        "I8" => ScalarType.Int8,
        "U8" => ScalarType.Byte,
        "BOOL" => ScalarType.Bool,
        _ => throw new InvalidDataException($"unknown dtype {dtype}"),
    };

    /// <summary>
    /// Reads one tensor on the CPU. Floating types (F16, BF16, F64) are converted to float32, the dtype PostTrain trains in;
    /// integer and bool tensors keep their type. The result belongs to the caller's dispose scope.
    /// </summary>
    public Tensor Read(string name)
    {
        var info = Info(name);
        var storage = StorageType(info.Dtype);
        using var scope = NewDisposeScope();
        var t = empty(info.Shape, storage);
        if (info.ByteLength > 0)
        {
            if (info.ByteLength > int.MaxValue)
                throw new InvalidDataException($"{Path}: tensor '{name}' is {info.ByteLength} bytes; tensors above 2 GB are not supported");
            var buffer = new byte[info.ByteLength];
            var got = 0;
            while (got < buffer.Length)
            {
                var n = RandomAccess.Read(handle, buffer.AsSpan(got), dataStart + info.Begin + got);
                if (n == 0) throw new InvalidDataException($"{Path}: tensor '{name}' ends after {got} of {buffer.Length} bytes; the file is truncated");
                got += n;
            }
            t.bytes = buffer;
        }
        if (storage is ScalarType.Float16 or ScalarType.BFloat16 or ScalarType.Float64) t = t.to_type(ScalarType.Float32);
        return t.MoveToOuterDisposeScope();
    }

    public void Dispose() => handle.Dispose();
}
