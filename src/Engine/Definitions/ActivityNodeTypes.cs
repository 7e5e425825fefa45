namespace PostTrain.Engine.Definitions;

/// <summary>Type names a definition reserves for containers.</summary>
public static class ActivityNodeTypes
{
    public static bool IsReserved(string type) => type is ActivityNode.RepeatType or ActivityNode.ForEachType;
}
