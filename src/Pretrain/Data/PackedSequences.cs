using TorchSharp;
using static TorchSharp.torch;

namespace PostTrain.Pretrain.Data;

/// <summary>
/// Token documents packed back to back, each followed by EOS, and cut into fixed rows of
/// <c>SequenceLength + 1</c> tokens (inputs are the first T, targets the last T), as nanoGPT and Llama pack
/// pretraining text: no padding, so every position is a training target. Consecutive rows overlap by one token
/// so no target is lost at a row boundary. The tail shorter than a row is dropped.
/// </summary>
public sealed class PackedSequences : IDisposable
{
    /// <summary>(N, T + 1) int64 on the CPU.</summary>
    public Tensor Rows { get; }
    public int SequenceLength { get; }
    public long Count => Rows.shape[0];
    /// <summary>Tokens in the documents, EOS separators included.</summary>
    public long TokenCount { get; }

    private PackedSequences(Tensor rows, int sequenceLength, long tokenCount)
    {
        Rows = rows;
        SequenceLength = sequenceLength;
        TokenCount = tokenCount;
    }

    /// <exception cref="InvalidDataException">The documents hold fewer tokens than one row needs.</exception>
    public static PackedSequences Pack(IEnumerable<int[]> documents, int eosId, int sequenceLength, string source)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(sequenceLength, 1);
        var stream = new List<long>();
        foreach (var doc in documents)
        {
            foreach (var id in doc) stream.Add(id);
            stream.Add(eosId);
        }
        var rows = stream.Count <= sequenceLength ? 0 : (stream.Count - 1) / sequenceLength;
        if (rows == 0)
            throw new InvalidDataException($"{source}: {stream.Count} tokens, expected at least {sequenceLength + 1} to fill one sequence of {sequenceLength}");
        var data = new long[rows * (sequenceLength + 1)];
        for (var r = 0; r < rows; r++)
            stream.CopyTo(r * sequenceLength, data, r * (sequenceLength + 1), sequenceLength + 1);
        var rowsTensor = torch.tensor(data, [rows, sequenceLength + 1], ScalarType.Int64).DetachFromDisposeScope();
        return new PackedSequences(rowsTensor, sequenceLength, stream.Count);
    }

    public void Dispose() => Rows.Dispose();
}
