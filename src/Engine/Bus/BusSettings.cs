namespace PostTrain.Engine.Bus;

/// <summary>
/// Which transport to use: <c>memory</c> (default; one process) or <c>rabbitmq://user:pass@host:port/vhost</c>.
/// Chosen by <c>--bus</c>, else configuration <c>PostTrain:Bus</c>, else <c>POSTTRAIN_BUS</c>.
/// </summary>
public sealed record BusSettings
{
    public const string EnvironmentVariable = "POSTTRAIN_BUS";
    public const string ConfigurationKey = "PostTrain:Bus";

    public Uri? RabbitMq { get; init; }

    /// <summary>The deployment whose queues and exchanges this process uses; null = the home's id (see <see cref="BusTopology"/>).</summary>
    public string? Deployment { get; init; }

    public bool IsInMemory => RabbitMq is null;

    public static BusSettings InMemory { get; } = new();

    /// <summary>Parses a bus address; throws <see cref="ArgumentException"/> naming what was wrong.</summary>
    public static BusSettings Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text) || text is "memory" or "inmemory" or "in-memory" or "loopback://localhost") return InMemory;
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.Scheme is not ("rabbitmq" or "amqp" or "amqps" or "rabbitmqs"))
            throw new ArgumentException($"bus '{text}' is not understood; expected 'memory' or rabbitmq://[user:pass@]host[:port][/vhost]");
        return new BusSettings { RabbitMq = uri };
    }

    /// <summary>The first of: explicit option, configuration value, environment variable.</summary>
    public static BusSettings Resolve(string? option, string? configuration = null) =>
        Parse(!string.IsNullOrWhiteSpace(option) ? option
            : !string.IsNullOrWhiteSpace(configuration) ? configuration
            : Environment.GetEnvironmentVariable(EnvironmentVariable));

    /// <summary>These settings for <paramref name="deployment"/>, else POSTTRAIN_DEPLOYMENT, else the home's id; throws <see cref="ArgumentException"/> on a bad name.</summary>
    public BusSettings WithDeployment(string? deployment)
    {
        var name = !string.IsNullOrWhiteSpace(deployment) ? deployment : Environment.GetEnvironmentVariable(BusTopology.EnvironmentVariable);
        if (string.IsNullOrWhiteSpace(name)) return this;
        if (BusTopology.Problem(name) is { } problem) throw new ArgumentException(problem);
        return this with { Deployment = name };
    }

    public override string ToString() => RabbitMq is null ? "memory" : $"{RabbitMq.Scheme}://{RabbitMq.Host}:{RabbitMq.Port}{RabbitMq.AbsolutePath}";
}
