using System.Reflection;
using PostTrain.Engine.Triggers;
using PostTrain.Workflows.Triggers;
using PostTrain.Workflows.Validation;

namespace PostTrain.Workflows;

/// <summary>
/// What the post-training application adds to the generic engine: its stage activities (this assembly) and the
/// trigger events its workflows may bind. Every registry the CLI, the studio and the hosts use comes from here.
/// </summary>
public static class PostTrainApplication
{
    public static Assembly Assembly => typeof(PostTrainApplication).Assembly;

    public static IReadOnlyList<TriggerRegistration> Triggers { get; } =
    [
        new(KnownTriggers.PreferenceDataArrived, KnownTriggers.Payloads[KnownTriggers.PreferenceDataArrived], typeof(PreferenceDataArrivedConsumer)),
        new(KnownTriggers.PromptsArrived, KnownTriggers.Payloads[KnownTriggers.PromptsArrived], typeof(PromptsArrivedConsumer)),
    ];

    /// <summary>The engine's built-ins, the stage activities, those of <paramref name="more"/>, and the known triggers.</summary>
    public static ActivityRegistry Registry(params Assembly[] more)
    {
        var registry = ActivityRegistry.Default([Assembly, .. more]);
        foreach (var t in Triggers) registry.RegisterTrigger(t.Event, t.Payload);
        return registry;
    }
}
