using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using PostTrain.Engine.Bus;
using PostTrain.Engine.Runtime;
using PostTrain.Workflows.Hosting;
using PostTrain.Engine.Store;

namespace PostTrain.Cli.Commands;

/// <summary><c>posttrain worker --pool cpu|gpu</c>: consumes one pool's queue on a shared bus; never opens the database.</summary>
public static class WorkerCommand
{
    public static Command Create()
    {
        var pool = new Option<string>("--pool") { Description = "Pool to serve", Required = true };
        pool.AcceptOnlyFromAmong("cpu", "gpu");
        var concurrency = new Option<int?>("--concurrency") { Description = "Activities at once (default: cpu = processor count, gpu = 1)" };
        var device = CliOptions.Device("cpu | cuda | cuda:N");
        var home = CliOptions.Home();
        var json = CliOptions.Json();
        var bus = CliOptions.Bus();
        var deployment = CliOptions.Deployment();
        var heartbeatTimeout = CliOptions.HeartbeatTimeout();
        var command = new Command("worker", "Run activities from a pool's queue until stopped (needs --bus rabbitmq://...)") { pool, concurrency, device, home, json, bus, deployment, heartbeatTimeout };
        command.SetAction((p, ct) => RunAsync(p.GetValue(pool)!, p.GetValue(concurrency), p.GetValue(device)!, p.GetValue(home), p.GetValue(json), p.GetValue(bus), ct, p.GetValue(deployment), p.GetValue(heartbeatTimeout)));
        return command;
    }

    public static async Task<int> RunAsync(string pool, int? concurrency, string device, string? homeOption, bool json, string? busOption, CancellationToken ct, string? deployment = null, double? heartbeatSeconds = null)
    {
        BusSettings bus;
        TimeSpan? heartbeatTimeout;
        try { bus = CliOptions.ResolveBus(busOption, deployment); }
        catch (ArgumentException e) { return Output.Error($"--bus: {e.Message}", CliApp.Usage); }
        try { heartbeatTimeout = CliOptions.ResolveHeartbeatTimeout(heartbeatSeconds); }
        catch (ArgumentException e) { return Output.Error(e.Message, CliApp.Usage); }
        if (bus.IsInMemory)
            return Output.Error("a separate worker needs a shared bus: pass --bus rabbitmq://HOST (or set POSTTRAIN_BUS); with the in-memory bus 'run' and 'host' run activities themselves", CliApp.Usage);
        var home = PostTrainHome.Resolve(homeOption);
        var defaults = new WorkerOptions();
        var options = new WorkerOptions
        {
            Pools = [pool],
            Device = device,
            Concurrency = concurrency is { } c ? new Dictionary<string, int> { [pool] = c } : defaults.Concurrency,
        };
        // The worker heartbeats often enough for the engine's timeout: at least three beats inside it.
        var engineOptions = heartbeatTimeout is { } timeout && timeout / 3 < new EngineOptions().HeartbeatInterval
            ? new EngineOptions { HeartbeatTimeout = timeout, HeartbeatInterval = timeout / 3 }
            : new EngineOptions { HeartbeatTimeout = heartbeatTimeout ?? new EngineOptions().HeartbeatTimeout };
        using var host = PostTrainHostFactory.Build(new PostTrainHostOptions { Home = home.Root, Bus = bus, Engine = false, Worker = options, EngineOptions = engineOptions, Purpose = "worker" });
        await host.StartAsync(ct);
        var topology = host.Services.GetRequiredService<BusTopology>();
        if (json) Output.WriteJson(new { pid = Environment.ProcessId, pool, device, bus = bus.ToString(), deployment = topology.Deployment });
        else Console.Out.WriteLine($"worker pid {Environment.ProcessId}: pool {pool} ({options.ConcurrencyOf(pool)} at once) on {device}; bus {bus}, deployment {topology.Deployment}. Ctrl+C to stop.");
        try { await Task.Delay(Timeout.Infinite, ct); }
        catch (OperationCanceledException) { }
        await host.StopAsync(TimeSpan.FromSeconds(30));
        return CliApp.Success;
    }
}
