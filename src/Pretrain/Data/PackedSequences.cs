using TorchSharp;
using static TorchSharp.torch;

namespace PostTrain.Pretrain.Data;

/// <summary>
/// Token documents, each followed by EOS, packed into fixed rows of <c>SequenceLength + 1</c> tokens (inputs are the
/// first T, targets the last T). A document that fits in a row never straddles two: a task's answer sits at its end,
/// and cut off from its prompt it would be unlearnable noise. The unused tail of a row is <see cref="Padding"/>
/// (never a target); only documents longer than a row continue in the next one.
/// </summary>
public sealed class PackedSequences : IDisposable
{
    /// <summary>(N, T + 1) int64 on the CPU; <see cref="Padding"/> where no token is.</summary>
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

    /// <summary>Marks unused row positions; <see cref="Pretrainer.LanguageModelLoss"/> ignores these targets.</summary>
    public const long Padding = -1;

    /// <exception cref="InvalidDataException">The documents hold fewer tokens than one training pair needs.</exception>
    public static PackedSequences Pack(IEnumerable<int[]> documents, int eosId, int sequenceLength, string source)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(sequenceLength, 1);
        var rowLength = sequenceLength + 1;
        var rows = new List<long[]>();
        long[]? row = null;
        var fill = 0;
        long tokens = 0;
        void NewRow()
        {
            if (row is not null && fill < 2) rows.RemoveAt(rows.Count - 1); // a lone token has no target
            row = new long[rowLength];
            Array.Fill(row, Padding);
            rows.Add(row);
            fill = 0;
        }
        foreach (var doc in documents)
        {
            var n = doc.Length + 1;
            tokens += n;
            if (row is null || (fill + n > rowLength && n <= rowLength)) NewRow();
            for (var i = 0; i < n; i++)
            {
                if (fill == rowLength) NewRow();
                row![fill++] = i < doc.Length ? doc[i] : eosId;
            }
        }
        if (row is not null && fill < 2) rows.RemoveAt(rows.Count - 1);
        if (rows.Count == 0)
            throw new InvalidDataException($"{source}: {tokens} tokens, expected at least 2 to form one training pair");
        var data = new long[rows.Count * rowLength];
        for (var r = 0; r < rows.Count; r++) rows[r].CopyTo(data, r * rowLength);
        var rowsTensor = torch.tensor(data, [rows.Count, rowLength], ScalarType.Int64).DetachFromDisposeScope();
        return new PackedSequences(rowsTensor, sequenceLength, tokens);
    }

    public void Dispose() => Rows.Dispose();
}
