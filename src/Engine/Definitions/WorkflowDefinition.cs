using System.Security.Cryptography;
using System.Text;

namespace PostTrain.Engine.Definitions;

/// <summary>A parsed workflow file. See <see cref="WorkflowLoader"/> for the JSON shape.</summary>
public sealed record WorkflowDefinition
{
    public required string Id { get; init; }
    public int Version { get; init; } = 1;
    public string Description { get; init; } = "";
    public IReadOnlyDictionary<string, ParameterDefinition> Parameters { get; init; } = new Dictionary<string, ParameterDefinition>();
    public IReadOnlyList<TriggerBinding> Triggers { get; init; } = [];
    public IReadOnlyList<ActivityNode> Activities { get; init; } = [];
    public IReadOnlyList<ConnectionDefinition> Connections { get; init; } = [];
    /// <summary>Run outputs, e.g. <c>"outputs": {"best": {"from":"rounds.best"}}</c>.</summary>
    public IReadOnlyDictionary<string, InputValue> Outputs { get; init; } = new Dictionary<string, InputValue>();
    /// <summary>File the definition came from (for messages).</summary>
    public string Source { get; init; } = "<inline>";
    /// <summary>The JSON text as loaded; runs keep it so a resumed run uses the same definition.</summary>
    public string Json { get; init; } = "";

    /// <summary>SHA-256 of <see cref="Json"/>: identifies a definition's content across edits of the same version.</summary>
    public string ContentHash => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Json)));
}
