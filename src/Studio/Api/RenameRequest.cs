namespace PostTrain.Studio.Api;

/// <summary>Body of POST /api/workflows/{name}/rename.</summary>
public sealed record RenameRequest(string To);
