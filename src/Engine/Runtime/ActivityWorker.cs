using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using MassTransit;
using Polly;
using Polly.Retry;
using Microsoft.Extensions.Logging;
using PostTrain.Core.Progress;
using PostTrain.Engine.Activities;
using PostTrain.Engine.Artifacts;
using PostTrain.Engine.Contracts;
using PostTrain.Engine.Store;

namespace PostTrain.Engine.Runtime;

/// <summary>
/// Runs <see cref="ExecuteActivity"/> commands. <see cref="AcceptAsync"/> waits for a free slot of the pool,
/// publishes <see cref="ActivityStarted"/>, starts the work in the background and returns, so the bus
/// acknowledges the delivery at once: a 30-minute activity never holds a RabbitMQ delivery (consumer_timeout).
/// While the work runs, heartbeats (<see cref="ActivityProgress"/>) go out every <see cref="EngineOptions.HeartbeatInterval"/>;
/// if this process dies they stop, and the engine re-dispatches the step.
/// </summary>
public sealed class ActivityWorker : IAsyncDisposable
{
    private readonly ActivityRegistry _registry;
    private readonly PostTrainHome _home;
    private readonly ArtifactStore _artifacts;
    private readonly StepCache _cache;
    private readonly IPublishEndpoint _bus;
    private readonly EngineOptions _engine;
    private readonly WorkerOptions _options;
    private readonly ILoggerFactory _loggers;
    private readonly ILogger _log;
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _slots = new();
    private readonly ConcurrentDictionary<(Guid Run, string Path, int Attempt), (CancellationTokenSource Cts, Task Work)> _running = new();
    /// <summary>Attempts this process holds: null while waiting for a slot or running, then how it finished.</summary>
    private readonly ConcurrentDictionary<(Guid Run, string Path, int Attempt), Finished?> _taken = new();
    private readonly CancellationTokenSource _stopping = new();
    /// <summary>Attempts stopped because another worker runs them (<see cref="StopDuplicate"/>): they end without a report.</summary>
    private readonly ConcurrentDictionary<(Guid Run, string Path, int Attempt), string> _duplicates = new();

    public ActivityWorker(ActivityRegistry registry, PostTrainHome home, ArtifactStore artifacts, IPublishEndpoint bus, EngineOptions engine, WorkerOptions options, ILoggerFactory loggers)
    {
        _registry = registry;
        _home = home;
        _artifacts = artifacts;
        _cache = new StepCache(home);
        _bus = bus;
        _engine = engine;
        _options = options;
        _loggers = loggers;
        _log = loggers.CreateLogger<ActivityWorker>();
    }

    public int Running => _running.Count;

    /// <summary>
    /// Takes a command: false if no slot freed up within <see cref="WorkerOptions.SlotWait"/> (the caller requeues it).
    /// A copy of an attempt this process already holds (the engine sends an unacknowledged command again; the broker
    /// redelivers a command whose acknowledgement a restart lost) is consumed without a second run: dropped while the
    /// attempt waits or runs, answered with its report again once it has finished.
    /// </summary>
    public async Task<bool> AcceptAsync(ExecuteActivity cmd, CancellationToken cancellationToken)
    {
        var key = (cmd.RunId, cmd.StepPath, cmd.Attempt);
        if (!_taken.TryAdd(key, null))
        {
            if (_taken.TryGetValue(key, out var done) && done is not null)
            {
                _log.LogInformation("{Path} attempt {Attempt} was sent again after it finished here; reporting its result again", cmd.StepPath, cmd.Attempt);
                await ReportAsync(done.Report).ConfigureAwait(false);
            }
            else _log.LogInformation("{Path} attempt {Attempt} was sent again while this worker holds it; the copy is dropped", cmd.StepPath, cmd.Attempt);
            return true;
        }
        var slot = _slots.GetOrAdd(cmd.Pool, p => new SemaphoreSlim(_options.ConcurrencyOf(p)));
        try
        {
            if (!await slot.WaitAsync(_options.SlotWait, cancellationToken).ConfigureAwait(false))
            {
                _taken.TryRemove(key, out _);
                return false;
            }
        }
        catch
        {
            _taken.TryRemove(key, out _);
            throw;
        }
        var cts = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
        try
        {
            using var timeout = PublishDeadline.Start(cancellationToken);
            await _bus.Publish(new ActivityStarted { RunId = cmd.RunId, StepPath = cmd.StepPath, Attempt = cmd.Attempt, Worker = _options.Name, At = DateTime.UtcNow }, timeout.Token).ConfigureAwait(false);
        }
        catch
        {
            _taken.TryRemove(key, out _);
            slot.Release();
            cts.Dispose();
            throw;
        }
        // The work waits until it is listed, so its own removal cannot come first (a cache hit ends at once) and a stop
        // for it finds it, or is seen by it.
        var listed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var work = Task.Run(async () =>
        {
            await listed.Task.ConfigureAwait(false);
            try
            {
                if (_duplicates.ContainsKey(key)) await cts.CancelAsync().ConfigureAwait(false);
                await ExecuteAsync(cmd, cts.Token).ConfigureAwait(false);
            }
            finally
            {
                slot.Release();
                _running.TryRemove(key, out _);
                // A stop that came too late to end the work (it had finished) has nothing left to stop.
                _duplicates.TryRemove(key, out _);
                cts.Dispose();
            }
        }, CancellationToken.None);
        _running[key] = (cts, work);
        listed.SetResult();
        return true;
    }

    /// <summary>Keeps the report of a finished attempt for copies of its command, and at most <see cref="KeptReports"/> of them.</summary>
    private async Task FinishAsync(ExecuteActivity cmd, object report)
    {
        _taken[(cmd.RunId, cmd.StepPath, cmd.Attempt)] = new Finished(report, DateTime.UtcNow);
        if (_taken.Count > 2 * KeptReports)
            foreach (var old in _taken.Where(kv => kv.Value is not null).OrderBy(kv => kv.Value!.At).SkipLast(KeptReports).ToList())
                _taken.TryRemove(old.Key, out _);
        await ReportAsync(report).ConfigureAwait(false);
    }

    private const int KeptReports = 512;

    private sealed record Finished(object Report, DateTime At);

    /// <summary>Stops the activities of a cancelled run.</summary>
    public void CancelRun(Guid runId)
    {
        foreach (var (key, value) in _running)
            if (key.Run == runId)
                try { value.Cts.Cancel(); } catch (ObjectDisposedException) { }
    }

    /// <summary>
    /// Stops this worker's copy of an attempt that another worker runs, if the message names this worker. The copy
    /// ends without a report, so the engine keeps the other worker's run of the attempt as it is.
    /// </summary>
    public void StopDuplicate(StopDuplicateAttempt m)
    {
        if (m.Worker != _options.Name) return;
        var key = (m.RunId, m.StepPath, m.Attempt);
        // Kept even when nothing runs under the key yet: the work about to start checks it.
        _duplicates[key] = m.RunningOn;
        if (_running.TryGetValue(key, out var running))
            try { running.Cts.Cancel(); } catch (ObjectDisposedException) { }
        // Not held here, or held and finished (its work already left the list): no work will ever read the stop.
        else if (!_taken.TryGetValue(key, out var finished) || finished is not null)
            _duplicates.TryRemove(key, out _);
    }

    /// <summary>Stops received for copies that have not ended yet; each ends with its copy.</summary>
    internal int PendingStops => _duplicates.Count;

    private async Task ExecuteAsync(ExecuteActivity cmd, CancellationToken ct)
    {
        var log = _loggers.CreateLogger($"PostTrain.Activity.{cmd.ActivityType}");
        var transfer = cmd.ArtifactUrl is { Length: > 0 } url ? new ArtifactClient(_artifacts, new Uri(url), cmd.ArtifactToken ?? "", _log) : null;
        StageProgress? latest = null;
        long lastSent = 0;
        using var heartbeatStop = new CancellationTokenSource();
        var heartbeats = Task.Run(async () =>
        {
            using var timer = new PeriodicTimer(_engine.HeartbeatInterval);
            try
            {
                while (await timer.WaitForNextTickAsync(heartbeatStop.Token).ConfigureAwait(false))
                    await PublishSafe(Heartbeat(cmd, latest)).ConfigureAwait(false);
            }
            catch (OperationCanceledException) { }
        }, CancellationToken.None);
        try
        {
            if (_cache.TryGet(cmd.CacheKey, out var cached))
            {
                if (transfer is not null) await transfer.PushAllAsync(OutputArtifacts(cached.OutputsJson, cached.Checkpoints), ct).ConfigureAwait(false);
                await heartbeatStop.CancelAsync().ConfigureAwait(false);
                await FinishAsync(cmd, new ActivityCompleted { RunId = cmd.RunId, StepPath = cmd.StepPath, Attempt = cmd.Attempt, CacheKey = cmd.CacheKey, OutputsJson = cached.OutputsJson, Metrics = cached.Metrics, Checkpoints = cached.Checkpoints, FromCache = true, At = DateTime.UtcNow }).ConfigureAwait(false);
                return;
            }
            var inputs = JsonNode.Parse(cmd.InputsJson)?.AsObject() ?? [];
            // Another machine's worker: the inputs come from the owner's store into this home's, by hash.
            if (transfer is not null) await transfer.FetchAllAsync(Parsed(ArtifactRefs.In(inputs)), ct).ConfigureAwait(false);
            var activity = _registry.Create(cmd.ActivityType);
            var context = new ActivityContext
            {
                Home = _home.Root,
                Artifacts = _artifacts,
                Logger = log,
                Progress = new SyncProgress(p =>
                {
                    latest = p;
                    // Between heartbeats, forward progress at most once a second so bars move.
                    var now = Environment.TickCount64;
                    if (now - Interlocked.Read(ref lastSent) < 1000) return;
                    Interlocked.Exchange(ref lastSent, now);
                    _ = PublishSafe(Heartbeat(cmd, p));
                }),
                CancellationToken = ct,
                Device = _options.Device,
                Seed = cmd.Seed,
                RunSeed = cmd.RunSeed,
                RunId = cmd.RunId,
                StepPath = cmd.StepPath,
                Attempt = cmd.Attempt,
                Round = cmd.Round,
            };
            // On a thread of its own, not a thread-pool worker: activities compute synchronously for minutes, and the same
            // SFT epochs ran about 12% slower on a pool worker than on a dedicated thread (libtorch's OpenMP team included).
            var outputs = await Task.Factory.StartNew(() => activity.RunAsync(inputs, context), CancellationToken.None,
                TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap().ConfigureAwait(false);
            ct.ThrowIfCancellationRequested();
            var json = outputs.ToJsonString();
            // Done only when the owner holds the outputs: pushed before the cache entry and the report.
            if (transfer is not null) await transfer.PushAllAsync(OutputArtifacts(json, context.Checkpoints), ct).ConfigureAwait(false);
            _cache.Put(new StepCacheEntry { Id = cmd.CacheKey, ActivityType = cmd.ActivityType, OutputsJson = json, Metrics = [.. context.Metrics], Checkpoints = [.. context.Checkpoints], At = DateTime.UtcNow });
            await heartbeatStop.CancelAsync().ConfigureAwait(false);
            await FinishAsync(cmd, new ActivityCompleted { RunId = cmd.RunId, StepPath = cmd.StepPath, Attempt = cmd.Attempt, CacheKey = cmd.CacheKey, OutputsJson = json, Metrics = [.. context.Metrics], Checkpoints = [.. context.Checkpoints], At = DateTime.UtcNow }).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // Shutting down: report nothing; the engine re-dispatches on resume or when heartbeats stop.
            if (_stopping.IsCancellationRequested) return;
            if (_duplicates.TryRemove((cmd.RunId, cmd.StepPath, cmd.Attempt), out var holder))
            {
                log.LogInformation("{Type} at {Path} (attempt {Attempt}) stopped: the attempt runs on {Holder}", cmd.ActivityType, cmd.StepPath, cmd.Attempt, holder);
                // Forgotten here, so a later copy is not mistaken for one this worker still holds or has answered.
                _taken.TryRemove((cmd.RunId, cmd.StepPath, cmd.Attempt), out _);
                return;
            }
            await FinishAsync(cmd, new ActivityFaulted { RunId = cmd.RunId, StepPath = cmd.StepPath, Attempt = cmd.Attempt, ExceptionType = nameof(OperationCanceledException), Error = "cancelled", Cancelled = true, At = DateTime.UtcNow }).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            log.LogWarning(e, "{Type} at {Path} (attempt {Attempt}) failed", cmd.ActivityType, cmd.StepPath, cmd.Attempt);
            var error = e is AggregateException { InnerException: { } inner } ? inner : e;
            await FinishAsync(cmd, new ActivityFaulted { RunId = cmd.RunId, StepPath = cmd.StepPath, Attempt = cmd.Attempt, ExceptionType = error.GetType().Name, Error = error.Message, Permanent = FailureClassifier.IsDeterministic(error), At = DateTime.UtcNow }).ConfigureAwait(false);
        }
        finally
        {
            await heartbeatStop.CancelAsync().ConfigureAwait(false);
            await heartbeats.ConfigureAwait(false);
        }
    }

    private static IEnumerable<ArtifactRef> OutputArtifacts(string outputsJson, IEnumerable<CheckpointRegistration> checkpoints) =>
        Parsed(ArtifactRefs.In(JsonNode.Parse(outputsJson)).Concat(checkpoints.Select(c => c.Artifact)).Distinct());

    /// <summary>Well-formed references only: a malformed one is the activity's to refuse, with its input's name.</summary>
    private static IEnumerable<ArtifactRef> Parsed(IEnumerable<string> references)
    {
        foreach (var r in references)
        {
            ArtifactRef? parsed = null;
            try { parsed = ArtifactRef.Parse(r); }
            catch (FormatException) { }
            if (parsed is { } p) yield return p;
        }
    }

    private static ActivityProgress Heartbeat(ExecuteActivity cmd, StageProgress? p) => new()
    {
        RunId = cmd.RunId,
        StepPath = cmd.StepPath,
        Attempt = cmd.Attempt,
        Fraction = p?.Fraction ?? 0,
        Message = p is null ? "" : $"{p.Stage} {p.Step}/{p.Total} {p.Unit}" + string.Concat(p.Metrics.Select(kv => $" {kv.Key}={kv.Value:G4}")),
        At = DateTime.UtcNow,
    };

    /// <summary>
    /// Publishes a step's outcome, retried with backoff while the broker is away (a restart, a dropped connection):
    /// a lost report would leave the step to the heartbeat timeout and a second execution. Heartbeats are not
    /// retried; the next one supersedes a lost one.
    /// </summary>
    private async Task ReportAsync(object message)
    {
        try
        {
            await ReportRetry.ExecuteAsync(async ct =>
            {
                using var timeout = PublishDeadline.Start(ct);
                await _bus.Publish(message, timeout.Token).ConfigureAwait(false);
            }, _stopping.Token).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            _log.LogError(e, "could not publish {Type}; the engine re-dispatches the step when its heartbeats stop", message.GetType().Name);
        }
    }

    private ResiliencePipeline ReportRetry => field ??= new ResiliencePipelineBuilder().AddRetry(new RetryStrategyOptions
    {
        // A publish that timed out is retried; one cancelled because this worker stops is not.
        ShouldHandle = new PredicateBuilder().Handle<Exception>(e => e is not OperationCanceledException || !_stopping.IsCancellationRequested),
        MaxRetryAttempts = 10,
        Delay = TimeSpan.FromSeconds(1),
        MaxDelay = TimeSpan.FromSeconds(30),
        BackoffType = DelayBackoffType.Exponential,
        UseJitter = true,
        OnRetry = a =>
        {
            _log.LogWarning("publishing a step's report failed ({Error}); retry {Attempt} in {Delay:F1} s", a.Outcome.Exception?.Message, a.AttemptNumber + 1, a.RetryDelay.TotalSeconds);
            return ValueTask.CompletedTask;
        },
    }).Build();

    private async Task PublishSafe(object message)
    {
        try
        {
            using var timeout = PublishDeadline.Start(CancellationToken.None);
            await _bus.Publish(message, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            _log.LogError(e, "could not publish {Type}", message.GetType().Name);
        }
    }

    /// <summary>Stops running activities without reporting them (the engine re-dispatches them), and waits for them. Idempotent.</summary>
    public async Task StopAsync()
    {
        if (!_stopping.IsCancellationRequested) await _stopping.CancelAsync().ConfigureAwait(false);
        try { await Task.WhenAll(_running.Values.Select(v => v.Work)).WaitAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false); }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException) { }
    }

    public async ValueTask DisposeAsync() => await StopAsync().ConfigureAwait(false);

    /// <summary>Progress&lt;T&gt; posts to a sync context; the worker only needs the latest value.</summary>
    private sealed class SyncProgress(Action<StageProgress> report) : IProgress<StageProgress>
    {
        public void Report(StageProgress value) => report(value);
    }
}
