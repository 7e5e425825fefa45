using System.Collections.Concurrent;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using PostTrain.Engine.Bus;
using PostTrain.Engine.Contracts;
using PostTrain.Engine.Runtime;
using PostTrain.Engine.Hosting;
using PostTrain.Engine.Store;
using PostTrain.Engine.Tests.Support;

namespace PostTrain.Engine.Tests;

/// <summary>Failures around the engine (bus, tick loop, lost commands) must never leave a run waiting forever.</summary>
public sealed class EngineResilienceTests
{
    private static IHost Build(TestHome home, EngineOptions options, WorkerOptions? worker, Action<IServiceCollection>? services = null) =>
        EngineHostFactory.Build(new PostTrainHostOptions
        {
            Home = home.Root,
            Worker = worker,
            EngineOptions = options,
            ActivityAssemblies = [typeof(EngineResilienceTests).Assembly],
            WorkflowDirectories = [home.Workflows],
            ConfigureServices = services,
        });

    private static Task<Guid> Start(IHost host, TestHome home, string json)
    {
        var id = System.Text.Json.Nodes.JsonNode.Parse(json)!["id"]!.GetValue<string>();
        return host.Services.GetRequiredService<RunLauncher>().StartAsync(home.WriteWorkflow(id, json), new Dictionary<string, string>(), 1);
    }

    private static async Task<RunSnapshot> WaitUntil(WorkflowEngine engine, Guid run, Func<RunSnapshot, bool> condition, int timeoutMs = 5_000)
    {
        var deadline = DateTime.UtcNow.AddMilliseconds(timeoutMs);
        while (true)
        {
            var s = engine.Snapshot(run);
            if (condition(s)) return s;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"state {s.State}, steps: {string.Join(", ", s.Steps.Select(x => $"{x.Path}={x.State}#{x.Attempt}"))}");
            await Task.Delay(20);
        }
    }

    /// <summary>Throws an <see cref="OperationCanceledException"/> (not caused by shutdown) the first time the engine's tick reads the clock.</summary>
    private sealed class CancelOnceInTick : TimeProvider
    {
        private int _fired;
        public bool Fired => Volatile.Read(ref _fired) == 1;

        public override DateTimeOffset GetUtcNow()
        {
            if (Volatile.Read(ref _fired) == 0 && Environment.StackTrace.Contains(nameof(WorkflowEngine.TickAsync), StringComparison.Ordinal)
                && Interlocked.Exchange(ref _fired, 1) == 0)
                throw new OperationCanceledException("simulated: a cancellation inside a tick that is not shutdown");
            return base.GetUtcNow();
        }
    }

    [Fact]
    public async Task TickLoop_TickThrowsOperationCanceled_KeepsTickingAndStillFindsLostSteps()
    {
        using var home = new TestHome();
        var time = new CancelOnceInTick();
        using var host = Build(home, EngineHost.Fast with { HeartbeatTimeout = TimeSpan.FromMilliseconds(400) }, worker: null,
            s => s.AddSingleton<TimeProvider>(time));
        await host.StartAsync();
        // A "worker" that takes the command, says it started, and dies silently: only the tick loop can notice.
        var attempts = new ConcurrentQueue<int>();
        var handle = host.Services.GetRequiredService<IBus>().ConnectReceiveEndpoint(host.Services.GetRequiredService<BusTopology>().PoolQueue("cpu"), e => e.Handler<ExecuteActivity>(async ctx =>
        {
            attempts.Enqueue(ctx.Message.Attempt);
            await ctx.Publish(new ActivityStarted { RunId = ctx.Message.RunId, StepPath = ctx.Message.StepPath, Attempt = ctx.Message.Attempt, Worker = "doomed", At = DateTime.UtcNow });
        }));
        await handle.Ready;

        var engine = host.Services.GetRequiredService<WorkflowEngine>();
        var id = await Start(host, home, """{"id":"tickdeath","activities":[{"id":"a","type":"Add","retry":{"maxAttempts":2,"backoffSeconds":0.05},"inputs":{"x":1}}]}""");
        var run = await engine.WaitForRunAsync(id).WaitAsync(TimeSpan.FromSeconds(6));

        Assert.True(time.Fired);
        Assert.Equal(RunState.Failed, run.State);
        Assert.Equal([1, 2], attempts.ToArray());
        // A sub-second timeout is reported as such, not rounded to "0s".
        Assert.Matches(@"lost: no heartbeat for \d+\.\d+s", run.Error);
        await handle.StopAsync();
        await host.StopAsync();
    }

    /// <summary>Throws <see cref="OperationCanceledException"/> for the first command sent (if asked) and for every RunFinished.</summary>
    private sealed class CancellingBus(IEngineBus inner, bool cancelFirstSend) : IEngineBus
    {
        private int _sends;

        public Task SendAsync(ExecuteActivity command, CancellationToken cancellationToken = default) =>
            Interlocked.Increment(ref _sends) == 1 && cancelFirstSend ? throw new OperationCanceledException("simulated: send cancelled") : inner.SendAsync(command, cancellationToken);

        public Task PublishAsync(object message, CancellationToken cancellationToken = default) =>
            message is RunFinished ? throw new OperationCanceledException("simulated: publish cancelled") : inner.PublishAsync(message, cancellationToken);
    }

    private static IHost BuildWithCancellingBus(TestHome home, bool cancelFirstSend) =>
        Build(home, EngineHost.Fast, new WorkerOptions { Concurrency = new Dictionary<string, int> { ["cpu"] = 4 } },
            s => s.AddSingleton<IEngineBus>(sp => new CancellingBus(new MassTransitEngineBus(sp.GetRequiredService<IBus>(), sp.GetRequiredService<BusTopology>()), cancelFirstSend)));

    [Fact]
    public async Task Flush_PublishingRunFinishedCancelled_WaitersStillComplete()
    {
        using var home = new TestHome();
        using var host = BuildWithCancellingBus(home, cancelFirstSend: false);
        await host.StartAsync();
        var engine = host.Services.GetRequiredService<WorkflowEngine>();
        var id = await Start(host, home, """{"id":"finish","activities":[{"id":"a","type":"Sleep","inputs":{"ms":300}}]}""");
        var waiter = engine.WaitForRunAsync(id);
        Assert.False(waiter.IsCompleted);

        var run = await waiter.WaitAsync(TimeSpan.FromSeconds(5));

        Assert.Equal(RunState.Succeeded, run.State);
        await host.StopAsync();
    }

    [Fact]
    public async Task Flush_BusThrowsOperationCanceled_OtherMessagesGoOutAndWaitersComplete()
    {
        using var home = new TestHome();
        using var host = BuildWithCancellingBus(home, cancelFirstSend: true);
        await host.StartAsync();
        var engine = host.Services.GetRequiredService<WorkflowEngine>();
        var changed = 0;
        engine.RunChanged += _ => Interlocked.Increment(ref changed);

        // Two steps dispatched in one flush: the first send is cancelled (the same attempt is sent again after the
        // dispatch ack timeout), the second still goes out.
        var id = await Start(host, home, """
        {"id":"flush","activities":[
          {"id":"a","type":"Sleep","retry":{"maxAttempts":3,"backoffSeconds":0.05},"inputs":{"ms":300}},
          {"id":"b","type":"Sleep","inputs":{"ms":300}}]}
        """);
        var waiter = engine.WaitForRunAsync(id);
        Assert.False(waiter.IsCompleted);
        // Publishing RunFinished is cancelled too; the waiter must complete all the same.
        var run = await waiter.WaitAsync(TimeSpan.FromSeconds(6));

        Assert.Equal(RunState.Succeeded, run.State);
        Assert.All(run.Steps, s => Assert.Equal((1, 0), (s.Attempt, s.Failures)));
        Assert.True(Volatile.Read(ref changed) > 0);
        await host.StopAsync();
    }

    [Fact]
    public async Task Tick_CommandLostBeforeWorkerStarted_StepRetriedAfterDispatchTimeout()
    {
        using var home = new TestHome();
        using var host = Build(home, EngineHost.Fast with { DispatchTimeout = TimeSpan.FromMilliseconds(400) }, worker: null);
        await host.StartAsync();
        // Attempt 1 dies in the worker before ActivityStarted (as when AcceptAsync throws): the command is gone.
        var attempts = new ConcurrentQueue<int>();
        var handle = host.Services.GetRequiredService<IBus>().ConnectReceiveEndpoint(host.Services.GetRequiredService<BusTopology>().PoolQueue("cpu"), e => e.Handler<ExecuteActivity>(async ctx =>
        {
            var m = ctx.Message;
            attempts.Enqueue(m.Attempt);
            if (m.Attempt == 1) throw new InvalidOperationException("simulated: could not publish ActivityStarted");
            await ctx.Publish(new ActivityStarted { RunId = m.RunId, StepPath = m.StepPath, Attempt = m.Attempt, Worker = "w", At = DateTime.UtcNow });
            await ctx.Publish(new ActivityCompleted { RunId = m.RunId, StepPath = m.StepPath, Attempt = m.Attempt, CacheKey = m.CacheKey, OutputsJson = """{"sum":1}""", At = DateTime.UtcNow });
        }));
        await handle.Ready;

        var engine = host.Services.GetRequiredService<WorkflowEngine>();
        var id = await Start(host, home, """{"id":"lostcmd","activities":[{"id":"a","type":"Add","retry":{"maxAttempts":2,"backoffSeconds":0.05},"inputs":{"x":1}}]}""");
        var run = await engine.WaitForRunAsync(id).WaitAsync(TimeSpan.FromSeconds(6));

        Assert.Equal(RunState.Succeeded, run.State);
        Assert.Equal([1, 2], attempts.ToArray());
        Assert.Equal(1, run.Steps.Single().Failures);
        await handle.StopAsync();
        await host.StopAsync();
    }

    [Fact]
    public async Task Tick_StepQueuedBehindBusySlot_IsNotTimedOut()
    {
        using var home = new TestHome();
        // One gpu slot, and a dispatch timeout far shorter than the 3.5 s b waits in the queue for it.
        using var host = Build(home, EngineHost.Fast with { DispatchTimeout = TimeSpan.FromSeconds(1.5) },
            new WorkerOptions { Concurrency = new Dictionary<string, int> { ["cpu"] = 2, ["gpu"] = 1 } });
        await host.StartAsync();
        var engine = host.Services.GetRequiredService<WorkflowEngine>();
        // Warm up (JIT, bus, store), so that a's own start is not slowed by a cold process on a loaded machine.
        await engine.WaitForRunAsync(await Start(host, home, """{"id":"warm","activities":[{"id":"w","type":"Sleep","pool":"gpu","inputs":{"ms":10}}]}"""))
            .WaitAsync(TimeSpan.FromSeconds(5));

        var id = await Start(host, home, """
        {"id":"queued","activities":[
          {"id":"a","type":"Sleep","pool":"gpu","inputs":{"ms":3500,"tag":"a"}},
          {"id":"b","type":"Sleep","pool":"gpu","inputs":{"ms":100,"tag":"b"}}]}
        """);
        var run = await engine.WaitForRunAsync(id).WaitAsync(TimeSpan.FromSeconds(8));

        Assert.Equal(RunState.Succeeded, run.State);
        Assert.All(run.Steps, s => Assert.Equal((1, 0), (s.Attempt, s.Failures)));
        Assert.Equal(["a", "b"], home.Executions().Order());
        await host.StopAsync();
    }

    [Fact]
    public async Task Progress_FromAttemptAlreadyDeclaredLost_DoesNotReviveOrRecount()
    {
        using var home = new TestHome();
        using var host = Build(home, EngineHost.Fast with { HeartbeatTimeout = TimeSpan.FromMilliseconds(300) }, worker: null);
        await host.StartAsync();
        var engine = host.Services.GetRequiredService<WorkflowEngine>();
        // Nobody consumes the pool: the test plays the worker of attempt 1, which goes quiet and then comes back late.
        var id = await Start(host, home, """{"id":"late","activities":[{"id":"a","type":"Add","retry":{"maxAttempts":3,"backoffSeconds":30},"inputs":{"x":1}}]}""");
        await engine.OnStartedAsync(new ActivityStarted { RunId = id, StepPath = "a", Attempt = 1, Worker = "slow", At = DateTime.UtcNow });
        await WaitUntil(engine, id, s => s.Steps.Single().State == StepState.Retrying);

        await engine.OnProgressAsync(new ActivityProgress { RunId = id, StepPath = "a", Attempt = 1, Fraction = 0.5, At = DateTime.UtcNow });
        Assert.Equal(StepState.Retrying, engine.Snapshot(id).Steps.Single().State);
        await engine.OnFaultedAsync(new ActivityFaulted { RunId = id, StepPath = "a", Attempt = 1, ExceptionType = "IOException", Error = "late", At = DateTime.UtcNow });

        var step = engine.Snapshot(id).Steps.Single();
        Assert.Equal((StepState.Retrying, 1, 1), (step.State, step.Attempt, step.Failures));
        Assert.Contains("lost", step.Error);
        await host.StopAsync();
    }

    /// <summary>
    /// The broker takes a command and loses it without the send failing (as in a restart before the queue wrote it):
    /// the same attempt goes out again after the dispatch ack timeout, not after the ten-minute dispatch timeout, and
    /// no attempt is counted as failed.
    /// </summary>
    [Fact]
    public async Task Tick_CommandDroppedSilently_SameAttemptSentAgainAfterAckTimeout()
    {
        using var home = new TestHome();
        using var host = Build(home, EngineHost.Fast with { DispatchAckTimeout = TimeSpan.FromMilliseconds(300), DispatchTimeout = TimeSpan.FromMinutes(10) }, worker: null);
        await host.StartAsync();
        var deliveries = new ConcurrentQueue<int>();
        var handle = host.Services.GetRequiredService<IBus>().ConnectReceiveEndpoint(host.Services.GetRequiredService<BusTopology>().PoolQueue("cpu"), e => e.Handler<ExecuteActivity>(async ctx =>
        {
            var m = ctx.Message;
            deliveries.Enqueue(m.Attempt);
            if (deliveries.Count == 1) return; // lost: consumed, never started
            await ctx.Publish(new ActivityStarted { RunId = m.RunId, StepPath = m.StepPath, Attempt = m.Attempt, Worker = "w", At = DateTime.UtcNow });
            await ctx.Publish(new ActivityCompleted { RunId = m.RunId, StepPath = m.StepPath, Attempt = m.Attempt, CacheKey = m.CacheKey, OutputsJson = """{"sum":1}""", At = DateTime.UtcNow });
        }));
        await handle.Ready;

        var engine = host.Services.GetRequiredService<WorkflowEngine>();
        var id = await Start(host, home, """{"id":"dropped","activities":[{"id":"a","type":"Add","inputs":{"x":1}}]}""");
        var run = await engine.WaitForRunAsync(id).WaitAsync(TimeSpan.FromSeconds(20));

        Assert.Equal(RunState.Succeeded, run.State);
        Assert.Equal([1, 1], deliveries.ToArray());
        Assert.Equal((1, 0), (run.Steps.Single().Attempt, run.Steps.Single().Failures));
        await handle.StopAsync();
        await host.StopAsync();
    }

    /// <summary>
    /// Copies of a command reach the worker (the engine's re-send, the broker's redelivery): one while the attempt runs
    /// is dropped, one after it finished is answered with the same report; the activity runs once.
    /// </summary>
    [Fact]
    public async Task Worker_CopiesOfARunningOrFinishedAttempt_RunsItOnceAndReportsAgain()
    {
        using var home = new TestHome();
        var sent = new ConcurrentQueue<ExecuteActivity>();
        using var host = Build(home, EngineHost.Fast, new WorkerOptions { Concurrency = new Dictionary<string, int> { ["cpu"] = 4 } },
            s => s.AddSingleton<IEngineBus>(sp => new RecordingBus(new MassTransitEngineBus(sp.GetRequiredService<IBus>(), sp.GetRequiredService<BusTopology>()), sent)));
        await host.StartAsync();
        var bus = host.Services.GetRequiredService<IBus>();
        var completions = new ConcurrentQueue<bool>();
        var handle = bus.ConnectReceiveEndpoint("completions-" + Guid.NewGuid().ToString("N"), e => e.Handler<ActivityCompleted>(ctx =>
        {
            completions.Enqueue(ctx.Message.FromCache);
            return Task.CompletedTask;
        }));
        await handle.Ready;
        var engine = host.Services.GetRequiredService<WorkflowEngine>();
        var id = await Start(host, home, """{"id":"copies","activities":[{"id":"a","type":"Sleep","inputs":{"ms":1500,"tag":"a"}}]}""");
        await WaitUntil(engine, id, s => s.Steps.Count == 1 && s.Steps[0].State == StepState.Running);
        var pool = await bus.GetSendEndpoint(new Uri($"queue:{host.Services.GetRequiredService<BusTopology>().PoolQueue("cpu")}"));
        var command = sent.First();

        await pool.Send(command);
        var run = await engine.WaitForRunAsync(id).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(RunState.Succeeded, run.State);
        await WaitUntilAsync(() => completions.Count == 1);
        await pool.Send(command);
        await WaitUntilAsync(() => completions.Count == 2);

        Assert.Equal(["a"], home.Executions());
        Assert.Equal([false, false], completions.ToArray());
        await handle.StopAsync();
        await host.StopAsync();
    }

    /// <summary>
    /// A copy of a command the engine sent again (its acknowledgement came late) reached a second worker while the first
    /// runs the attempt: the engine tells the second to stop its copy, and repeats of the first worker's own report
    /// change nothing.
    /// </summary>
    [Fact]
    public async Task Started_SameAttemptOnASecondWorker_EngineTellsThatWorkerToStop()
    {
        using var home = new TestHome();
        using var host = Build(home, EngineHost.Fast, worker: null);
        await host.StartAsync();
        var (stops, handle) = await Listen<StopDuplicateAttempt>(host);
        var engine = host.Services.GetRequiredService<WorkflowEngine>();
        var id = await Start(host, home, """{"id":"twice","activities":[{"id":"a","type":"Add","inputs":{"x":1}}]}""");

        await engine.OnStartedAsync(new ActivityStarted { RunId = id, StepPath = "a", Attempt = 1, Worker = "first", At = DateTime.UtcNow });
        await engine.OnStartedAsync(new ActivityStarted { RunId = id, StepPath = "a", Attempt = 1, Worker = "first", At = DateTime.UtcNow });
        await engine.OnStartedAsync(new ActivityStarted { RunId = id, StepPath = "a", Attempt = 1, Worker = "second", At = DateTime.UtcNow });
        await WaitUntilAsync(() => !stops.IsEmpty);
        await Task.Delay(200);

        var stop = Assert.Single(stops);
        Assert.Equal((id, "a", 1, "second", "first"), (stop.RunId, stop.StepPath, stop.Attempt, stop.Worker, stop.RunningOn));
        var step = engine.Snapshot(id).Steps.Single();
        Assert.Equal((StepState.Running, 1, "first"), (step.State, step.Attempt, step.Worker));
        await handle.StopAsync();
        await host.StopAsync();
    }

    /// <summary>
    /// The worker of a lost attempt is not taken for the next attempt's: when the next attempt's heartbeat comes before
    /// its ActivityStarted (the step already Running), the worker that starts it is not told to stop.
    /// </summary>
    [Fact]
    public async Task Started_NextAttemptOnAnotherWorker_AfterItsHeartbeat_IsNotStopped()
    {
        using var home = new TestHome();
        using var host = Build(home, EngineHost.Fast with { HeartbeatTimeout = TimeSpan.FromSeconds(2) }, worker: null);
        await host.StartAsync();
        var (stops, handle) = await Listen<StopDuplicateAttempt>(host);
        var engine = host.Services.GetRequiredService<WorkflowEngine>();
        var id = await Start(host, home, """{"id":"next","activities":[{"id":"a","type":"Add","retry":{"maxAttempts":3,"backoffSeconds":0.05},"inputs":{"x":1}}]}""");
        await engine.OnStartedAsync(new ActivityStarted { RunId = id, StepPath = "a", Attempt = 1, Worker = "dead", At = DateTime.UtcNow });
        await WaitUntil(engine, id, s => s.Steps.Single() is { Attempt: 2, State: StepState.Dispatched });

        await engine.OnProgressAsync(new ActivityProgress { RunId = id, StepPath = "a", Attempt = 2, Fraction = 0.1, At = DateTime.UtcNow });
        await engine.OnStartedAsync(new ActivityStarted { RunId = id, StepPath = "a", Attempt = 2, Worker = "alive", At = DateTime.UtcNow });
        await Task.Delay(300);

        Assert.Empty(stops);
        var step = engine.Snapshot(id).Steps.Single();
        Assert.Equal((StepState.Running, 2), (step.State, step.Attempt));
        await handle.StopAsync();
        await host.StopAsync();
    }

    /// <summary>
    /// A worker told to stop its copy of an attempt ends it without a report (a fault would count against the attempt the
    /// other worker runs); a stop naming another worker leaves its work alone. Here the "other worker" is a fiction, so
    /// the engine finds the attempt lost when its heartbeats stop, and the next attempt completes. The heartbeat timeout
    /// is 30 intervals: at 1 s (10 intervals) a CI machine busy with the browser tests once missed attempt 2's heartbeats
    /// too, which counted a second failure that had nothing to do with the stop.
    /// </summary>
    [Fact]
    public async Task Worker_ToldToStopItsCopy_EndsItWithoutAReport()
    {
        using var home = new TestHome();
        using var host = Build(home, EngineHost.Fast with { HeartbeatTimeout = TimeSpan.FromSeconds(3) },
            new WorkerOptions { Name = "local", Concurrency = new Dictionary<string, int> { ["cpu"] = 4 } });
        await host.StartAsync();
        var bus = host.Services.GetRequiredService<IBus>();
        var (faults, handle) = await Listen<ActivityFaulted>(host);
        var engine = host.Services.GetRequiredService<WorkflowEngine>();
        var id = await Start(host, home, """{"id":"copy","activities":[{"id":"a","type":"Sleep","retry":{"maxAttempts":3,"backoffSeconds":0.05},"inputs":{"ms":2000,"tag":"a"}}]}""");
        await WaitUntil(engine, id, s => s.Steps.Count == 1 && s.Steps[0].State == StepState.Running);

        await bus.Publish(new StopDuplicateAttempt { RunId = id, StepPath = "a", Attempt = 1, Worker = "elsewhere", RunningOn = "local", At = DateTime.UtcNow });
        var before = engine.Snapshot(id).Steps.Single().Progress;
        var still = await WaitUntil(engine, id, s => s.Steps.Single().Progress >= before + 0.2); // its slices go on
        Assert.Equal((StepState.Running, 1, 0), (still.Steps.Single().State, still.Steps.Single().Attempt, still.Steps.Single().Failures));
        await bus.Publish(new StopDuplicateAttempt { RunId = id, StepPath = "a", Attempt = 1, Worker = "local", RunningOn = "elsewhere", At = DateTime.UtcNow });
        var run = await engine.WaitForRunAsync(id).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(RunState.Succeeded, run.State);
        var step = run.Steps.Single();
        Assert.Equal((2, 1), (step.Attempt, step.Failures));
        Assert.Empty(faults);
        Assert.Equal(["a"], home.Executions()); // the stopped copy never reached its end
        Assert.Equal(0, host.Services.GetRequiredService<ActivityWorker>().PendingStops); // the stop ended with its copy
        await handle.StopAsync();
        await host.StopAsync();
    }

    /// <summary>
    /// A stop that reaches a worker after its copy finished, or for an attempt it never held, has nothing to stop: the
    /// worker keeps no record of it (one per such stop, never read again, was what it kept before).
    /// </summary>
    [Fact]
    public async Task StopDuplicate_ForACopyThatFinishedOrNeverCame_KeepsNothing()
    {
        using var home = new TestHome();
        using var host = Build(home, EngineHost.Fast, new WorkerOptions { Name = "local", Concurrency = new Dictionary<string, int> { ["cpu"] = 4 } });
        await host.StartAsync();
        var engine = host.Services.GetRequiredService<WorkflowEngine>();
        var worker = host.Services.GetRequiredService<ActivityWorker>();
        var id = await Start(host, home, """{"id":"done","activities":[{"id":"a","type":"Add","inputs":{"x":1}}]}""");
        await engine.WaitForRunAsync(id).WaitAsync(TimeSpan.FromSeconds(30));

        worker.StopDuplicate(new StopDuplicateAttempt { RunId = id, StepPath = "a", Attempt = 1, Worker = "local", RunningOn = "elsewhere", At = DateTime.UtcNow });
        worker.StopDuplicate(new StopDuplicateAttempt { RunId = Guid.NewGuid(), StepPath = "a", Attempt = 1, Worker = "local", RunningOn = "elsewhere", At = DateTime.UtcNow });

        Assert.Equal(0, worker.PendingStops);
        await host.StopAsync();
    }

    /// <summary>Every message of type <typeparamref name="T"/> published on the host's bus, from now on, on a queue of the test's own.</summary>
    private static async Task<(ConcurrentQueue<T> Seen, HostReceiveEndpointHandle Handle)> Listen<T>(IHost host) where T : class
    {
        var seen = new ConcurrentQueue<T>();
        var handle = host.Services.GetRequiredService<IBus>().ConnectReceiveEndpoint($"{typeof(T).Name}-{Guid.NewGuid():N}", e => e.Handler<T>(ctx =>
        {
            seen.Enqueue(ctx.Message);
            return Task.CompletedTask;
        }));
        await handle.Ready;
        return (seen, handle);
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("condition not met in 10 s");
            await Task.Delay(20);
        }
    }

    /// <summary>
    /// A dispatch whose send returns late (a broker reconnecting) must not tell listeners "Running" after they were
    /// told the run succeeded: the CLI keeps serving a run it believes still runs, and in CI it never exited.
    /// </summary>
    [Fact]
    public async Task RunChanged_SendReturningAfterTheRunEnded_ListenersKeepTheFinalState()
    {
        using var home = new TestHome();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var host = Build(home, EngineHost.Fast, new WorkerOptions { Concurrency = new Dictionary<string, int> { ["cpu"] = 4 } },
            s => s.AddSingleton<IEngineBus>(sp => new LateReturningBus(new MassTransitEngineBus(sp.GetRequiredService<IBus>(), sp.GetRequiredService<BusTopology>()), release.Task)));
        await host.StartAsync();
        var engine = host.Services.GetRequiredService<WorkflowEngine>();
        var latest = new ConcurrentDictionary<Guid, RunState>();
        engine.RunChanged += s => latest[s.Id] = s.State;

        // The start transition's flush is held inside its send, after the command went out.
        var start = Start(host, home, """{"id":"late","activities":[{"id":"a","type":"Sleep","inputs":{"ms":100}}]}""");
        await WaitUntilAsync(() => engine.Runs().Count == 1);
        var run = await WaitUntil(engine, engine.Runs().Single().Id, s => s.State == RunState.Succeeded);
        await WaitUntilAsync(() => latest.TryGetValue(run.Id, out var state) && state == RunState.Succeeded);
        release.SetResult();
        await start.WaitAsync(TimeSpan.FromSeconds(5));
        await Task.Delay(200);

        Assert.Equal(RunState.Succeeded, latest[run.Id]);
        await host.StopAsync();
    }

    /// <summary>Sends every command at once, but returns from the first send only when <paramref name="release"/> completes.</summary>
    private sealed class LateReturningBus(IEngineBus inner, Task release) : IEngineBus
    {
        private int _sends;

        public async Task SendAsync(ExecuteActivity command, CancellationToken cancellationToken = default)
        {
            await inner.SendAsync(command, cancellationToken);
            if (Interlocked.Increment(ref _sends) == 1) await release;
        }

        public Task PublishAsync(object message, CancellationToken cancellationToken = default) => inner.PublishAsync(message, cancellationToken);
    }

    /// <summary>Remembers every command the engine sends.</summary>
    private sealed class RecordingBus(IEngineBus inner, ConcurrentQueue<ExecuteActivity> sent) : IEngineBus
    {
        public Task SendAsync(ExecuteActivity command, CancellationToken cancellationToken = default)
        {
            sent.Enqueue(command);
            return inner.SendAsync(command, cancellationToken);
        }

        public Task PublishAsync(object message, CancellationToken cancellationToken = default) => inner.PublishAsync(message, cancellationToken);
    }
}
