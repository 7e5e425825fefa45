using System.Text.Json;
using System.Text.Json.Nodes;

namespace PostTrain.Engine.Activities;

/// <summary>The untyped face of an activity that the worker calls; derive from <see cref="Activity{TInput, TOutput}"/>.</summary>
public abstract class ActivityBase
{
    public abstract Type InputType { get; }
    public abstract Type OutputType { get; }

    /// <summary>Deserializes <paramref name="inputs"/>, runs the activity, returns its outputs as a JSON object.</summary>
    public abstract Task<JsonObject> RunAsync(JsonObject inputs, ActivityContext context);

    /// <summary>
    /// Refuses numeric inputs outside their declared bounds (a parameter given at run time can carry any value), as a
    /// deterministic <see cref="ArgumentException"/>: the step fails at once with the reason.
    /// </summary>
    protected static void CheckRanges(object input, ActivityDescriptor descriptor)
    {
        foreach (var port in descriptor.Inputs.Where(p => p.Min is not null || p.Max is not null))
        {
            var property = input.GetType().GetProperties().First(p => ActivityJson.Name(p.Name) == port.Name);
            if (property.GetValue(input) is IConvertible value and not string && port.OutOfRange(value.ToDouble(System.Globalization.CultureInfo.InvariantCulture)) is { } error)
                throw new ArgumentException($"{descriptor.Type}: input {error}");
        }
    }

    protected static object ReadInputs(JsonObject inputs, Type type)
    {
        try
        {
            return inputs.Deserialize(type, ActivityJson.Options) ?? throw new JsonException("inputs are null");
        }
        catch (Exception e) when (e is JsonException or FormatException) // FormatException: a malformed sha256: reference
        {
            throw new ArgumentException($"inputs {inputs.ToJsonString()} do not fit {type.Name}: {e.Message}", e);
        }
    }
}
