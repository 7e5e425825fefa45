namespace PostTrain.Model.Tokenization;

/// <summary>One piece of a SentencePiece model (<c>ModelProto.SentencePiece</c>).</summary>
/// <param name="Piece">The text of the piece; "▁" stands for a space.</param>
/// <param name="Score">BPE: higher merges first (minus the merge's rank).</param>
/// <param name="Type">1 normal, 2 unknown, 3 control, 6 byte (SentencePiece's enum).</param>
public sealed record SentencePieceEntry(string Piece, float Score, int Type)
{
    public const int Normal = 1, Unknown = 2, Control = 3, Byte = 6;
}
