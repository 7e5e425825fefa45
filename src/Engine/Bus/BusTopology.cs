using System.Text.RegularExpressions;
using PostTrain.Engine.Store;

namespace PostTrain.Engine.Bus;

/// <summary>
/// Queue and exchange names of one deployment. Every name carries the deployment, so two fleets on one broker never
/// take each other's commands or hear each other's events. The deployment is <c>--deployment NAME</c> (or
/// <c>POSTTRAIN_DEPLOYMENT</c>), else the id of the home (<c>HOME/posttrain.id</c>): processes sharing a home agree
/// by default; a worker on another machine's home passes the owner's deployment.
/// </summary>
public sealed partial record BusTopology
{
    public const string EnvironmentVariable = "POSTTRAIN_DEPLOYMENT";

    public BusTopology(string deployment)
    {
        if (Problem(deployment) is { } problem) throw new ArgumentException(problem);
        Deployment = deployment;
    }

    public string Deployment { get; }

    /// <summary>The engine's queue: worker events, run requests, cancels.</summary>
    public string EngineQueue => $"posttrain-{Deployment}-engine";
    /// <summary>Trigger events: the consumers of the application's <c>TriggerRegistration</c>s.</summary>
    public string TriggerQueue => $"posttrain-{Deployment}-triggers";
    /// <summary>A worker's own temporary queue (run cancellations).</summary>
    public string WorkerQueue => $"posttrain-{Deployment}-worker";
    /// <summary>Prefix of the exchanges MassTransit names after message types (published events).</summary>
    public string ExchangePrefix => $"posttrain-{Deployment}.";

    /// <summary>One queue per worker pool: posttrain-DEPLOYMENT-pool-cpu, posttrain-DEPLOYMENT-pool-gpu.</summary>
    public string PoolQueue(string pool) => $"posttrain-{Deployment}-pool-{pool}";

    /// <summary>The topology of <paramref name="deployment"/>, else of the home's id.</summary>
    public static BusTopology For(PostTrainHome home, string? deployment) =>
        new(string.IsNullOrWhiteSpace(deployment) ? home.Id : deployment);

    /// <summary>Why <paramref name="name"/> cannot name a deployment, or null.</summary>
    public static string? Problem(string? name) =>
        name is not null && NamePattern().IsMatch(name) ? null
        : $"deployment '{name}' is not a valid name: use 1-40 lowercase letters, digits and dashes, starting with a letter or digit";

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{0,39}$")]
    private static partial Regex NamePattern();
}
