namespace PostTrain.Model.Checkpoints;

/// <summary>One entry of a safetensors header: dtype, shape and the byte span [Begin, End) relative to the data section.</summary>
public sealed record SafeTensorInfo(string Name, string Dtype, long[] Shape, long Begin, long End)
{
    public long ElementCount => Shape.Aggregate(1L, (a, b) => a * b);
    public long ByteLength => End - Begin;
}
