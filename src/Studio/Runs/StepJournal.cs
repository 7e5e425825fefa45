using System.Collections.Concurrent;
using MassTransit;
using PostTrain.Workflows.Contracts;

namespace PostTrain.Studio.Runs;

/// <summary>
/// What the run monitor shows about a step beyond the engine's records: which worker ran each attempt, and a log of
/// the step's events (started, heartbeats with progress, completed with metrics, faults) plus any log lines written
/// inside a logging scope that names the run and step. It observes the messages the engine consumes on the bus, so
/// it sees remote workers too. Kept in memory: a restarted studio shows the engine's records without the log.
/// </summary>
public sealed class StepJournal : IConsumeObserver
{
    private const int MaxLinesPerStep = 400;
    private readonly ConcurrentDictionary<(Guid Run, string Path), Entry> _steps = new();

    /// <summary>Raised after a line is added, with the run it belongs to.</summary>
    public event Action<Guid>? Changed;

    public string? WorkerOf(Guid runId, string path) => _steps.TryGetValue((runId, path), out var e) ? e.Worker : null;

    public IReadOnlyList<StepLogLine> LogOf(Guid runId, string path)
    {
        if (!_steps.TryGetValue((runId, path), out var e)) return [];
        lock (e) return [.. e.Lines];
    }

    public void Add(Guid runId, string path, string level, string message, DateTime? at = null)
    {
        var e = _steps.GetOrAdd((runId, path), _ => new Entry());
        lock (e)
        {
            // Heartbeats repeat the same message while nothing moves; keep one line for them.
            if (e.Lines.Count > 0 && e.Lines[^1].Message == message) return;
            e.Lines.Add(new StepLogLine(at ?? DateTime.UtcNow, level, message));
            if (e.Lines.Count > MaxLinesPerStep) e.Lines.RemoveRange(0, e.Lines.Count - MaxLinesPerStep);
        }
        Changed?.Invoke(runId);
    }

    public Task PreConsume<T>(ConsumeContext<T> context) where T : class
    {
        switch (context.Message)
        {
            case ActivityStarted m:
                _steps.GetOrAdd((m.RunId, m.StepPath), _ => new Entry()).Worker = m.Worker;
                Add(m.RunId, m.StepPath, "info", $"attempt {m.Attempt} started on {m.Worker}", m.At);
                break;
            case ActivityProgress m when m.Message.Length > 0:
                Add(m.RunId, m.StepPath, "info", $"{m.Fraction:P0} {m.Message}", m.At);
                break;
            case ActivityCompleted m:
                var metrics = string.Join(" ", m.Metrics.Select(x => $"{x.Name}={x.Value:G4}"));
                Add(m.RunId, m.StepPath, "info", $"attempt {m.Attempt} completed{(m.FromCache ? " from the step cache" : "")}" +
                    (metrics.Length > 0 ? $": {metrics}" : "") + (m.Checkpoints.Count > 0 ? $"; {m.Checkpoints.Count} checkpoint(s)" : ""), m.At);
                break;
            case ActivityFaulted m:
                Add(m.RunId, m.StepPath, m.Cancelled ? "warn" : "error", $"attempt {m.Attempt} {(m.Cancelled ? "cancelled" : $"failed: {m.ExceptionType}: {m.Error}")}", m.At);
                break;
        }
        return Task.CompletedTask;
    }

    public Task PostConsume<T>(ConsumeContext<T> context) where T : class => Task.CompletedTask;

    public Task ConsumeFault<T>(ConsumeContext<T> context, Exception exception) where T : class => Task.CompletedTask;

    private sealed class Entry
    {
        public string? Worker { get; set; }
        public List<StepLogLine> Lines { get; } = [];
    }
}
