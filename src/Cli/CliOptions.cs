using System.CommandLine;
using PostTrain.Engine.Bus;
using PostTrain.Engine.Store;

namespace PostTrain.Cli;

/// <summary>Options every workflow command takes. Each call makes a fresh instance so commands stay independent.</summary>
public static class CliOptions
{
    public static Option<string?> Home() => new("--home") { Description = $"PostTrain home (default ${PostTrainHome.EnvironmentVariable}, else ./.posttrain)" };

    public static Option<bool> Json() => new("--json") { Description = "Machine-readable JSON on stdout" };

    public static Option<string?> Bus() => new("--bus") { Description = $"memory (default) or rabbitmq://user:pass@host:port/vhost (else configuration {BusSettings.ConfigurationKey}, else ${BusSettings.EnvironmentVariable})" };

    public static Option<string[]> Workflows() => new("--workflows") { Description = "Directories of workflow files (default ./workflows and HOME/workflows)", AllowMultipleArgumentsPerToken = true };

    /// <summary>The bus from --bus, else PostTrain__Bus (configuration), else POSTTRAIN_BUS.</summary>
    public static BusSettings ResolveBus(string? option) => BusSettings.Resolve(option, Environment.GetEnvironmentVariable("PostTrain__Bus"));

    public static IReadOnlyList<string> WorkflowDirectories(string[]? option, PostTrainHome home) =>
        option is { Length: > 0 } ? option : [Path.Combine(Environment.CurrentDirectory, "workflows"), Path.Combine(home.Root, "workflows")];
}
