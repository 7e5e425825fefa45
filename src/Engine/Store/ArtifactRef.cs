using System.Text.Json;
using System.Text.Json.Serialization;

namespace PostTrain.Engine.Store;

/// <summary>
/// A reference to an immutable file or directory in the <see cref="ArtifactStore"/>: <c>sha256:&lt;hex&gt;</c>.
/// Messages and step outputs carry these, never the bytes.
/// </summary>
[JsonConverter(typeof(ArtifactRefJsonConverter))]
public readonly record struct ArtifactRef(string Hash)
{
    public const string Prefix = "sha256:";

    public static ArtifactRef Parse(string text)
    {
        var hex = text.StartsWith(Prefix, StringComparison.Ordinal) ? text[Prefix.Length..] : text;
        if (hex.Length != 64 || !hex.All(Uri.IsHexDigit))
            throw new FormatException($"'{text}' is not an artifact reference; expected sha256:<64 hex digits>");
        return new ArtifactRef(hex.ToLowerInvariant());
    }

    public override string ToString() => Prefix + Hash;

    private sealed class ArtifactRefJsonConverter : JsonConverter<ArtifactRef>
    {
        public override ArtifactRef Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            Parse(reader.GetString() ?? throw new JsonException("artifact reference is null"));

        public override void Write(Utf8JsonWriter writer, ArtifactRef value, JsonSerializerOptions options) =>
            writer.WriteStringValue(value.ToString());
    }
}
