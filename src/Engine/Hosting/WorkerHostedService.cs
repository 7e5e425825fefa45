using Microsoft.Extensions.Hosting;
using PostTrain.Engine.Runtime;

namespace PostTrain.Engine.Hosting;

/// <summary>Registered after the bus so it stops first: running activities stop silently before the bus goes down.</summary>
public sealed class WorkerHostedService(ActivityWorker worker) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StopAsync(CancellationToken cancellationToken) => worker.StopAsync();
}
