using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using PostTrain.Engine.Runtime;

namespace PostTrain.Engine.Hosting;

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
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception e)
                {
                    // Anything else, a stray OperationCanceledException included, must not end the loop: it alone
                    // notices lost steps, dispatches retries and applies control requests.
                    log.LogError(e, "engine tick failed; ticking on");
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { }
    }
}
