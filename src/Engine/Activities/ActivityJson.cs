using System.Text.Json;
using System.Text.Json.Serialization;

namespace PostTrain.Engine.Activities;

/// <summary>The one JSON convention for inputs and outputs: camelCase, enums as strings, artifacts as <c>sha256:...</c>.</summary>
public static class ActivityJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        NumberHandling = JsonNumberHandling.Strict,
    };

    public static string Name(string clrName) => JsonNamingPolicy.CamelCase.ConvertName(clrName);
}
