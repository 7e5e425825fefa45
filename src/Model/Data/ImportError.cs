namespace PostTrain.Model.Data;

/// <summary>One bad field on one line of an imported file; prints as <c>FILE:LINE: field: reason</c> like a compiler.</summary>
public sealed record ImportError(string File, int Line, string Field, string Reason)
{
    public override string ToString() => $"{File}:{Line}: {Field}: {Reason}";
}
