using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;
using PostTrain.Studio.Files;
using PostTrain.Studio.Runs;
using PostTrain.Engine.Runtime;
using PostTrain.Engine.Store;

namespace PostTrain.Studio.Api;

/// <summary>/api/runs: start, list, read, resume, cancel, metrics, checkpoints, and live updates as server-sent events.</summary>
public static class RunEndpoints
{
    private static readonly TimeSpan Coalesce = TimeSpan.FromMilliseconds(150);
    private static readonly TimeSpan KeepAlive = TimeSpan.FromSeconds(15);

    public static void Map(IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api").WithTags("runs");

        api.MapPost("/runs", async (StartRunRequest body, WorkflowFiles files, RunLauncher launcher, RunViews views) =>
        {
            if (WorkflowName.Check(body.Workflow) is { } bad) return Results.BadRequest(new ErrorResponse(bad));
            var path = files.PathOf(body.Workflow);
            if (!File.Exists(path)) return Results.NotFound(new ErrorResponse($"no workflow '{body.Workflow}' in {files.Directory}"));
            // The launcher binds parameters from text as `--param k=v` does: strings raw, everything else as JSON.
            var parameters = (body.Parameters ?? []).ToDictionary(kv => kv.Key,
                kv => kv.Value is System.Text.Json.Nodes.JsonValue v && v.TryGetValue<string>(out var s) ? s : kv.Value?.ToJsonString() ?? "null");
            try
            {
                var id = await launcher.StartAsync(path, parameters, body.Seed ?? Random.Shared.NextInt64(1, int.MaxValue), trigger: "studio").ConfigureAwait(false);
                return Results.Created($"/api/runs/{id}", views.Get(id));
            }
            catch (WorkflowInvalidException e)
            {
                return Results.UnprocessableEntity(new ErrorResponse(e.Message, [.. e.Problems.Select(p => new ProblemView("$", p))]));
            }
        })
            .WithSummary("Starts a run of a saved workflow with parameter values over its defaults (422 with the reasons if it does not validate or bind).")
            .Produces<RunView>(StatusCodes.Status201Created).Produces<ErrorResponse>(StatusCodes.Status422UnprocessableEntity);

        api.MapGet("/runs", (RunViews views) => Results.Ok(views.List()))
            .WithSummary("All runs, newest first.").Produces<List<RunView>>();

        api.MapGet("/runs/{id:guid}", (Guid id, RunViews views) =>
            views.Get(id) is { } run ? Results.Ok(run) : Results.NotFound(new ErrorResponse($"no run {id}")))
            .WithSummary("A run with its steps, workers and step logs.").Produces<RunView>();

        api.MapPost("/runs/{id:guid}/resume", async (Guid id, WorkflowEngine engine, RunViews views) =>
        {
            try { await engine.ResumeAsync(id).ConfigureAwait(false); }
            catch (KeyNotFoundException e) { return Results.NotFound(new ErrorResponse(e.Message)); }
            return Results.Ok(views.Get(id));
        }).WithSummary("Resumes a failed, cancelled or interrupted run: finished steps stay done.").Produces<RunView>();

        api.MapPost("/runs/{id:guid}/cancel", async (Guid id, string? reason, WorkflowEngine engine, RunViews views) =>
        {
            try
            {
                // ?reason= names who cancelled (`posttrain cancel` says "cancelled by user", as it does without an owner).
                if (!await engine.CancelAsync(id, string.IsNullOrWhiteSpace(reason) ? "cancelled in the studio" : reason).ConfigureAwait(false))
                    return Results.Conflict(new ErrorResponse($"run {id} has finished already ({views.Get(id)?.State})"));
            }
            catch (KeyNotFoundException e) { return Results.NotFound(new ErrorResponse(e.Message)); }
            return Results.Ok(views.Get(id));
        }).WithSummary("Cancels a run; its workers stop its activities.").Produces<RunView>();

        api.MapGet("/runs/{id:guid}/metrics", (Guid id, RunViews views) =>
            views.Get(id) is null ? Results.NotFound(new ErrorResponse($"no run {id}")) : Results.Ok(views.Metrics(id)))
            .WithSummary("Metrics recorded by the run's steps, with round and step.").Produces<List<MetricView>>();

        api.MapGet("/checkpoints", (Guid? run, RunViews views) => Results.Ok(views.Checkpoints(run)))
            .WithSummary("Checkpoints with lineage (sampler, parent, reward model) and whether a selection step picked each; ?run= filters.")
            .Produces<List<CheckpointView>>();

        api.MapGet("/runs/{id:guid}/events", (Guid id, HttpContext context, WorkflowEngine engine, StepJournal journal, RunViews views, IOptions<JsonOptions> json) =>
            RunStream(id, context, engine, journal, views, json.Value.SerializerOptions))
            .WithSummary("Server-sent events for one run: 'run' (the run view), 'metrics', 'checkpoints' on every change, then 'end' once it finishes.")
            .Produces(StatusCodes.Status200OK, contentType: "text/event-stream");

        api.MapGet("/runs/events", (HttpContext context, WorkflowEngine engine, RunViews views, IOptions<JsonOptions> json) =>
            ListStream(context, engine, views, json.Value.SerializerOptions))
            .WithSummary("Server-sent events: 'runs' (the runs list) whenever any run changes.")
            .Produces(StatusCodes.Status200OK, contentType: "text/event-stream");
    }

    private static async Task RunStream(Guid id, HttpContext context, WorkflowEngine engine, StepJournal journal, RunViews views, JsonSerializerOptions json)
    {
        if (views.Get(id) is null)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            await context.Response.WriteAsJsonAsync(new ErrorResponse($"no run {id}")).ConfigureAwait(false);
            return;
        }
        var signal = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
        void OnRun(RunSnapshot s) { if (s.Id == id) signal.Writer.TryWrite(true); }
        void OnLog(Guid run) { if (run == id) signal.Writer.TryWrite(true); }
        engine.RunChanged += OnRun;
        journal.Changed += OnLog;
        try
        {
            var ct = context.RequestAborted;
            Start(context);
            var sentMetrics = -1;
            var sentCheckpoints = -1;
            while (!ct.IsCancellationRequested)
            {
                var run = views.Get(id)!;
                await Send(context, "run", run, json).ConfigureAwait(false);
                var metrics = views.Metrics(id);
                if (metrics.Count != sentMetrics) { await Send(context, "metrics", metrics, json).ConfigureAwait(false); sentMetrics = metrics.Count; }
                var checkpoints = views.Checkpoints(id);
                if (checkpoints.Count != sentCheckpoints || run.State is not ("running" or "queued"))
                {
                    await Send(context, "checkpoints", checkpoints, json).ConfigureAwait(false);
                    sentCheckpoints = checkpoints.Count;
                }
                if (run.State is "succeeded" or "failed" or "cancelled")
                {
                    await Send(context, "end", new { run.State }, json).ConfigureAwait(false);
                    return;
                }
                if (!await WaitAsync(context, signal.Reader, ct).ConfigureAwait(false)) return;
            }
        }
        catch (OperationCanceledException) { }
        finally
        {
            engine.RunChanged -= OnRun;
            journal.Changed -= OnLog;
        }
    }

    private static async Task ListStream(HttpContext context, WorkflowEngine engine, RunViews views, JsonSerializerOptions json)
    {
        var signal = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
        void OnRun(RunSnapshot _) => signal.Writer.TryWrite(true);
        engine.RunChanged += OnRun;
        try
        {
            var ct = context.RequestAborted;
            Start(context);
            while (!ct.IsCancellationRequested)
            {
                await Send(context, "runs", views.List(), json).ConfigureAwait(false);
                if (!await WaitAsync(context, signal.Reader, ct).ConfigureAwait(false)) return;
            }
        }
        catch (OperationCanceledException) { }
        finally
        {
            engine.RunChanged -= OnRun;
        }
    }

    private static void Start(HttpContext context)
    {
        context.Response.ContentType = "text/event-stream";
        context.Response.Headers.CacheControl = "no-cache";
        context.Response.Headers["X-Accel-Buffering"] = "no";
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
    }

    /// <summary>Waits for a change (then a short pause so a burst becomes one event), sending a comment every 15 s to keep the connection open.</summary>
    private static async Task<bool> WaitAsync(HttpContext context, ChannelReader<bool> signal, CancellationToken ct)
    {
        while (true)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(KeepAlive);
            try
            {
                if (!await signal.WaitToReadAsync(timeout.Token).ConfigureAwait(false)) return false;
                signal.TryRead(out _);
                await Task.Delay(Coalesce, ct).ConfigureAwait(false);
                signal.TryRead(out _);
                return true;
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                await context.Response.WriteAsync(": keep-alive\n\n", ct).ConfigureAwait(false);
                await context.Response.Body.FlushAsync(ct).ConfigureAwait(false);
            }
        }
    }

    private static async Task Send<T>(HttpContext context, string name, T data, JsonSerializerOptions json)
    {
        var payload = JsonSerializer.Serialize(data, json);
        await context.Response.WriteAsync($"event: {name}\ndata: {payload}\n\n", Encoding.UTF8, context.RequestAborted).ConfigureAwait(false);
        await context.Response.Body.FlushAsync(context.RequestAborted).ConfigureAwait(false);
    }
}
