using System.CommandLine;
using System.CommandLine.Parsing;
using PostTrain.Model.Training;
using PostTrain.Engine.Bus;
using PostTrain.Engine.Store;

namespace PostTrain.Cli;

/// <summary>
/// Options shared by the commands. <c>--home</c> and <c>--json</c> are global: <see cref="AddGlobals"/> gives every
/// command that has an action both of them (a command may still declare its own), so a new command gets them by
/// construction and reads them with <see cref="HomeOf"/> and <see cref="JsonOf"/>.
/// </summary>
public static class CliOptions
{
    public const string HomeName = "--home";
    public const string JsonName = "--json";

    public static Option<string?> Home() => new(HomeName) { Description = $"PostTrain home (default ${PostTrainHome.EnvironmentVariable}, else ./.posttrain)" };

    public static Option<bool> Json() => new(JsonName) { Description = "Machine-readable JSON on stdout (logs and progress go to stderr)" };

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

    public static Option<int?> ArtifactPort() => new("--artifact-port") { Description = "With --bus rabbitmq://…: the port on which this owner serves its artifacts to workers on other machines, every interface, token-protected (default 0 = any free port; workers learn the address from each command)" };

    public static Option<string?> ArtifactHost() => new("--artifact-host") { Description = "The name or address by which workers on other machines reach this one's artifact port (default: this machine's host name)" };

    /// <summary>The artifact server's options from --artifact-port/--artifact-host; throws <see cref="ArgumentException"/> naming the problem.</summary>
    public static Engine.Artifacts.ArtifactServerOptions ResolveArtifactServer(int? port, string? host) =>
        port is < 0 or > 65535 ? throw new ArgumentException($"--artifact-port: {port} is not a TCP port (0..65535)")
        : host is not null && Uri.CheckHostName(host) == UriHostNameType.Unknown ? throw new ArgumentException($"--artifact-host: '{host}' is not a host name or address")
        : new Engine.Artifacts.ArtifactServerOptions { Port = port ?? 0, AdvertisedHost = host };

    public static Option<string[]> Workflows() => new("--workflows") { Description = "Directories of workflow files (default ./workflows and HOME/workflows)", AllowMultipleArgumentsPerToken = true };

    /// <summary>
    /// <c>--device cpu|cuda|cuda:N</c>, checked while parsing: an unknown name, or CUDA where this libtorch sees no GPU,
    /// is a usage error before any work starts. Only a non-default value loads libtorch to ask.
    /// </summary>
    public static Option<string> Device(string description = "cpu | cuda | cuda:N", string defaultValue = "cpu")
    {
        var option = new Option<string>("--device") { Description = description, DefaultValueFactory = _ => defaultValue };
        option.Validators.Add(result =>
        {
            if (result.Implicit) return;
            var value = result.GetValueOrDefault<string>();
            if (string.Equals(value?.Trim(), "cpu", StringComparison.OrdinalIgnoreCase)) return;
            try { DeviceOptions.Parse(value ?? ""); }
            catch (ArgumentException e) { result.AddError($"--device: {e.Message.Split(" (Parameter")[0]}"); }
        });
        return option;
    }

    /// <summary>Adds <c>--home</c> and <c>--json</c> to <paramref name="command"/> and its subcommands wherever they run something and lack them.</summary>
    public static Command AddGlobals(Command command)
    {
        foreach (var sub in command.Subcommands) AddGlobals(sub);
        if (command.Action is null) return command;
        if (!Has(command, HomeName)) command.Options.Add(Home());
        if (!Has(command, JsonName)) command.Options.Add(Json());
        return command;
    }

    public static PostTrainHome HomeOf(ParseResult parse) => PostTrainHome.Resolve(parse.GetValue<string?>(HomeName));

    /// <summary>True when --home was given on the command line (commands with their own defaults only then move into the home).</summary>
    public static bool HomeGiven(ParseResult parse) => parse.GetResult(HomeName) is OptionResult { Implicit: false };

    public static bool JsonOf(ParseResult parse) => parse.GetValue<bool>(JsonName);

    /// <summary>The bus from --bus, else PostTrain__Bus (configuration), else POSTTRAIN_BUS.</summary>
    public static BusSettings ResolveBus(string? option) => BusSettings.Resolve(option, Environment.GetEnvironmentVariable("PostTrain__Bus")).WithDeployment(null);

    /// <summary>The bus as <see cref="ResolveBus(string?)"/>, for the deployment given by --deployment (else POSTTRAIN_DEPLOYMENT, else the home's id).</summary>
    public static BusSettings ResolveBus(string? option, string? deployment) => ResolveBus(option).WithDeployment(deployment);

    public static IReadOnlyList<string> WorkflowDirectories(string[]? option, PostTrainHome home) =>
        option is { Length: > 0 } ? option : [Path.Combine(Environment.CurrentDirectory, "workflows"), Path.Combine(home.Root, "workflows")];

    private static bool Has(Command command, string name) => command.Options.Any(o => o.Name == name || o.Aliases.Contains(name));
}
