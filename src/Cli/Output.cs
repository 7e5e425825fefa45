using System.Text.Json;
using System.Text.Json.Serialization;
using Spectre.Console;

namespace PostTrain.Cli;

/// <summary>Console output: JSON for --json, Spectre tables otherwise, errors on stderr.</summary>
public static class Output
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Converters = { new JsonStringEnumConverter() },
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public static void WriteJson<T>(T value) => Console.Out.WriteLine(JsonSerializer.Serialize(value, Json));

    public static int Error(string message, int code = CliApp.Failure)
    {
        Console.Error.WriteLine($"error: {message}");
        return code;
    }

    /// <summary>True when stdout is a terminal that can redraw (bars); false for pipes, files and CI logs.</summary>
    public static bool Interactive => !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;

    public static string Escape(string? text) => Markup.Escape(text ?? "");
}
