using PostTrain.Engine.Definitions;

namespace PostTrain.Workflows.Validation;

/// <summary>Events a workflow may bind in <c>triggers</c>, with the payload fields a binding can map to parameters.</summary>
public static class KnownTriggers
{
    public const string PreferenceDataArrived = nameof(Contracts.PreferenceDataArrived);
    public const string PromptsArrived = nameof(Contracts.PromptsArrived);

    /// <summary>Payload fields per event: name → port type.</summary>
    public static readonly IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> Payloads =
        new Dictionary<string, IReadOnlyDictionary<string, string>>
        {
            [PreferenceDataArrived] = new Dictionary<string, string>
            {
                ["dataset"] = PortTypes.Artifact,
                ["pairs"] = PortTypes.Int,
                ["batchId"] = PortTypes.String,
            },
            [PromptsArrived] = new Dictionary<string, string>
            {
                ["dataset"] = PortTypes.String,
                ["prompts"] = PortTypes.Int,
                ["verifier"] = PortTypes.String,
                ["batchId"] = PortTypes.String,
            },
        };
}
