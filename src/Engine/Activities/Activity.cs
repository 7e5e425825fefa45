using System.Text.Json;
using System.Text.Json.Nodes;

namespace PostTrain.Engine.Activities;

/// <summary>
/// Base class of every activity: one class per kind, with typed inputs and outputs. Mark the class with
/// <see cref="ActivityAttribute"/>, the input properties with <see cref="InputAttribute"/> and the output properties
/// with <see cref="OutputAttribute"/>. Defaults are the input object's initial property values.
/// The same inputs and seed must give the same outputs: the engine caches outputs by that key.
/// </summary>
public abstract class Activity<TInput, TOutput> : ActivityBase
    where TInput : class, new()
    where TOutput : class
{
    public sealed override Type InputType => typeof(TInput);
    public sealed override Type OutputType => typeof(TOutput);

    public abstract Task<TOutput> ExecuteAsync(TInput input, ActivityContext context);

    public sealed override async Task<JsonObject> RunAsync(JsonObject inputs, ActivityContext context)
    {
        var input = (TInput)ReadInputs(inputs, typeof(TInput));
        CheckRanges(input, ActivityDescriptorFactory.Create(GetType()));
        var output = await ExecuteAsync(input, context).ConfigureAwait(false);
        return JsonSerializer.SerializeToNode(output, ActivityJson.Options)!.AsObject();
    }
}
