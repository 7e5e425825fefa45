using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using PostTrain.Engine.Runtime;
using PostTrain.Engine.Store;
using PostTrain.Workflows.Reports;

namespace PostTrain.Studio.Api;

/// <summary>
/// What the CLI needs from a home's owner beyond the studio's /api/runs: submitting a workflow file with
/// <c>--param</c> text, the engine's own run snapshots (what <c>status</c>, <c>runs</c> and the progress display print),
/// the stored records (round rows and reports), Ctrl+C's interrupt, and the datasets <c>iterate</c> reads and records.
/// Mapped only on the owner's token-protected loopback server (<see cref="Owner.OwnerServer"/>).
/// </summary>
public static class OwnerEndpoints
{
    public static void Map(IEndpointRouteBuilder app, string purpose)
    {
        var api = app.MapGroup("/api").WithTags("owner");

        api.MapGet("/owner", (PostTrainHome home) => Results.Ok(new { pid = Environment.ProcessId, home = home.Root, purpose }))
            .WithSummary("Who owns the home.");

        api.MapPost("/owner/runs", async (SubmitRunRequest body, RunLauncher launcher, RunReportService reports) =>
        {
            if (!System.IO.Path.IsPathFullyQualified(body.Path)) return Results.BadRequest(new ErrorResponse($"path '{body.Path}': expected an absolute path to a workflow file"));
            var id = Guid.NewGuid();
            if (body.ReportByCaller) reports.Claim(id);
            try
            {
                await launcher.StartAsync(body.Path, body.Parameters ?? new Dictionary<string, string>(), body.Seed, runId: id).ConfigureAwait(false);
                return Results.Created($"/api/runs/{id}", new { id });
            }
            catch (WorkflowInvalidException e)
            {
                return Results.UnprocessableEntity(new ErrorResponse(e.Message, [.. e.Problems.Select(p => new ProblemView("$", p))]));
            }
        }).WithSummary("Starts a run of a workflow file with parameters as --param text (422 with the reasons if it does not validate or bind).");

        api.MapGet("/runs/snapshots", (WorkflowEngine engine) => Results.Ok(engine.Runs().Select(r => engine.Snapshot(r.Id)).ToList()))
            .WithSummary("Every run as the engine sees it now (newest first), steps with live progress.");

        api.MapGet("/runs/{id:guid}/snapshot", (Guid id, WorkflowEngine engine) => Found(id, () => engine.Snapshot(id)))
            .WithSummary("One run as the engine sees it now.");

        api.MapGet("/runs/{id:guid}/records", (Guid id, WorkflowEngine engine) =>
            Found(id, () => new RunRecords(engine.Runs().FirstOrDefault(r => r.Id == id) ?? throw new KeyNotFoundException(), engine.Steps(id), engine.Metrics(id), engine.Rounds(id))))
            .WithSummary("The run's stored records: run, steps, metrics, rounds.");

        api.MapGet("/runs/{id:guid}/rounds", (Guid id, WorkflowEngine engine) => Results.Ok(engine.Rounds(id)))
            .WithSummary("The run's rounds (started, finished), polled while a client shows \"round x/N\".");

        api.MapPost("/runs/{id:guid}/interrupt", async (Guid id, WorkflowEngine engine) =>
        {
            try { return Results.Ok(new { interrupted = await engine.InterruptAsync(id).ConfigureAwait(false) }); }
            catch (KeyNotFoundException e) { return Results.NotFound(new ErrorResponse(e.Message)); }
        }).WithSummary("Marks a running run Interrupted (a client's Ctrl+C); it keeps its finished steps for a resume.");

        api.MapGet("/datasets", (WorkflowEngine engine) => Results.Ok(engine.Datasets())).WithSummary("Imported datasets, oldest first.");

        api.MapPost("/datasets", (DatasetRecord dataset, WorkflowEngine engine, ArtifactStore artifacts) =>
        {
            // The client put the bytes into the shared artifact store; the owner only records them.
            ArtifactRef artifact;
            try { artifact = ArtifactRef.Parse(dataset.Artifact); }
            catch (FormatException e) { return Results.BadRequest(new ErrorResponse(e.Message)); }
            if (!artifacts.Exists(artifact))
                return Results.BadRequest(new ErrorResponse($"artifact '{dataset.Artifact}' is not in {artifacts.Root}"));
            engine.RecordDataset(dataset);
            return Results.NoContent();
        }).WithSummary("Records a dataset whose bytes are already in the artifact store.");
    }

    private static IResult Found<T>(Guid id, Func<T> read)
    {
        try { return Results.Ok(read()); }
        catch (KeyNotFoundException) { return Results.NotFound(new ErrorResponse($"no run {id}")); }
    }
}
