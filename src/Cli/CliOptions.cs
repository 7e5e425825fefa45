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

    public static Option<string?> Deployment() => new("--deployment") { Description = $"Name that keeps this fleet's queues apart on a shared broker (default ${BusTopology.EnvironmentVariable}, else the home's id in HOME/posttrain.id)" };

    public static Option<double?> HeartbeatTimeout() => new("--heartbeat-timeout") { Description = "Seconds without a heartbeat before a running step counts as lost and is re-dispatched (default 60)" };

    /// <summary>
    /// --heartbeat-timeout as a duration: positive and at most a day, checked before it becomes a TimeSpan. Null when
    /// the option is absent; throws <see cref="ArgumentException"/> naming the problem.
    /// </summary>
    public static TimeSpan? ResolveHeartbeatTimeout(double? seconds) =>
        seconds is null ? null
        : double.IsFinite(seconds.Value) && seconds.Value is >= 1 and <= 86_400 ? TimeSpan.FromSeconds(seconds.Value)
        : throw new ArgumentException($"--heartbeat-timeout: {seconds.Value.ToString(System.Globalization.CultureInfo.InvariantCulture)} is not a number of seconds between 1 and 86400");

    public static Option<string[]> Workflows() => new("--workflows") { Description = "Directories of workflow files (default ./workflows and HOME/workflows)", AllowMultipleArgumentsPerToken = true };

    /// <summary>The bus from --bus, else PostTrain__Bus (configuration), else POSTTRAIN_BUS.</summary>
    public static BusSettings ResolveBus(string? option) => BusSettings.Resolve(option, Environment.GetEnvironmentVariable("PostTrain__Bus")).WithDeployment(null);

    /// <summary>The bus as <see cref="ResolveBus(string?)"/>, for the deployment given by --deployment (else POSTTRAIN_DEPLOYMENT, else the home's id).</summary>
    public static BusSettings ResolveBus(string? option, string? deployment) => ResolveBus(option).WithDeployment(deployment);

    public static IReadOnlyList<string> WorkflowDirectories(string[]? option, PostTrainHome home) =>
        option is { Length: > 0 } ? option : [Path.Combine(Environment.CurrentDirectory, "workflows"), Path.Combine(home.Root, "workflows")];
}
