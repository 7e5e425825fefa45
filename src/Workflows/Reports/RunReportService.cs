using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using PostTrain.Engine.Runtime;
using PostTrain.Engine.Store;

namespace PostTrain.Workflows.Reports;

/// <summary>
/// The owner of a home writes the quality report (<c>HOME/runs/RUN/report.md</c> and charts) of every run that
/// succeeds there, wherever it was started: the studio's Run dialog, a trigger, a client's submission. A command
/// that writes the report itself with its own options (<c>iterate</c>, locally or as a client) claims the run
/// first. Reports are built one at a time in the background; a run whose shape has no report (no rounds) is skipped.
/// </summary>
public sealed class RunReportService(WorkflowEngine engine, ArtifactStore artifacts, ILogger<RunReportService> log) : BackgroundService
{
    private readonly ConcurrentDictionary<Guid, bool> _claimed = new();
    private readonly ConcurrentDictionary<Guid, bool> _queued = new();
    private readonly Channel<Guid> _queue = Channel.CreateUnbounded<Guid>();

    /// <summary>The caller writes this run's report itself; the owner does not.</summary>
    public void Claim(Guid runId) => _claimed[runId] = true;

    /// <summary>Where a run's report goes.</summary>
    public static string DirectoryOf(PostTrainHome home, Guid runId) => Path.Combine(home.RunsDirectory, runId.ToString("D"));

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        engine.RunChanged += OnRunChanged;
        return base.StartAsync(cancellationToken);
    }

    public override Task StopAsync(CancellationToken cancellationToken)
    {
        engine.RunChanged -= OnRunChanged;
        return base.StopAsync(cancellationToken);
    }

    private void OnRunChanged(RunSnapshot run)
    {
        if (run.State != RunState.Succeeded || _claimed.ContainsKey(run.Id) || !_queued.TryAdd(run.Id, true)) return;
        _queue.Writer.TryWrite(run.Id);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var id in _queue.Reader.ReadAllAsync(stoppingToken).ConfigureAwait(false))
                // Model loading and sampling are synchronous and long: off the host's threads. Stopping does not wait for
                // a report half built: it is written temp-then-rename, so an owner that exits leaves none or a whole one.
                await Task.Run(() => Write(id), stoppingToken).WaitAsync(stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { }
    }

    private void Write(Guid id)
    {
        if (_claimed.ContainsKey(id)) return;
        var dir = DirectoryOf(engine.Home, id);
        if (File.Exists(Path.Combine(dir, QualityReportWriter.MarkdownFile))) return;
        try
        {
            var run = engine.Runs().Single(r => r.Id == id);
            var steps = engine.Steps(id);
            var metrics = engine.Metrics(id);
            if (RunReportBuilder.Rounds(steps, metrics).Count == 0) return;
            var path = QualityReportWriter.Write(RunReportBuilder.Build(run, steps, metrics, artifacts), dir);
            log.LogInformation("run {Run}: report written to {Path}", id, path);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // The run itself succeeded; a report that cannot be built must not take the owner down. `posttrain report` retries it.
            log.LogWarning("run {Run}: no report written: {Error} (posttrain report {Run} writes it)", id, e.Message, id);
        }
    }
}
