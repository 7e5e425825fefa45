using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using PostTrain.Workflows.Engine;

namespace PostTrain.Workflows.Hosting;

/// <summary>Resumes runs at start, then ticks the engine: retries, lost steps, control requests.</summary>
public sealed class EngineHostedService(WorkflowEngine engine, PostTrainHostOptions options, ILogger<EngineHostedService> log) : BackgroundService
{
    /// <summary>Resumes before the host reports started, so no new run can race with the resume.</summary>
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        if (options.ResumeOnStart) await engine.ResumeAllAsync().ConfigureAwait(false);
        await base.StartAsync(cancellationToken).ConfigureAwait(false);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.EngineOptions.TickInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                try
                {
                    await engine.TickAsync().ConfigureAwait(false);
                    await ControlRequests.ProcessAsync(engine.Home, engine).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    log.LogError(e, "engine tick failed");
                }
            }
        }
        catch (OperationCanceledException) { }
    }
}
