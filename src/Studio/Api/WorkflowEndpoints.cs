using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using PostTrain.Studio.Files;
using PostTrain.Workflows.Activities;
using PostTrain.Engine.Definitions;
using PostTrain.Workflows.Validation;

namespace PostTrain.Studio.Api;

/// <summary>
/// /api/workflows: list, read, save (ETag-guarded, validated first, formatted stably), rename, delete, validate.
/// Validation is <see cref="WorkflowValidator.Validate"/>, the same call <c>posttrain validate</c> makes.
/// </summary>
public static class WorkflowEndpoints
{
    public static void Map(IEndpointRouteBuilder app, StudioOptions options)
    {
        var max = options.MaxRequestBodyBytes;
        var api = app.MapGroup("/api").WithTags("workflows");

        api.MapGet("/workflows", (WorkflowFiles files, ActivityRegistry registry) =>
            Results.Ok(files.List().Select(f =>
            {
                var load = WorkflowLoader.Parse(f.Text, f.Path);
                var problems = WorkflowValidator.Validate(load, registry);
                return new WorkflowSummary(f.Name, load.Definition?.Id ?? "", load.Definition?.Description ?? "", load.Definition?.Version ?? 0,
                    problems.Count == 0, problems.Count, f.ETag, f.Modified);
            }).ToList()))
            .WithSummary("Workflow files in the workflow directory, with whether each validates.")
            .Produces<List<WorkflowSummary>>();

        api.MapGet("/workflows/{name}", (string name, WorkflowFiles files, HttpResponse response) =>
        {
            if (WorkflowName.Check(name) is { } bad) return Results.BadRequest(new ErrorResponse(bad));
            var file = files.Read(name);
            if (file is null) return Results.NotFound(new ErrorResponse($"no workflow '{name}' in {files.Directory}"));
            response.Headers.ETag = file.ETag;
            return Results.Text(file.Text, "application/json");
        })
            .WithSummary("The workflow file as stored; the ETag header is what a save must send as If-Match.")
            .Produces(StatusCodes.Status200OK, contentType: "application/json");

        api.MapPut("/workflows/{name}", async (string name, HttpRequest request, HttpResponse response, WorkflowFiles files, ActivityRegistry registry) =>
        {
            if (WorkflowName.Check(name) is { } bad) return Results.BadRequest(new ErrorResponse(bad));
            var (json, _, error) = await RequestBody.ReadObjectAsync(request, max).ConfigureAwait(false);
            if (error is not null) return error;
            var text = WorkflowFileFormatter.Format(json!);
            var path = files.PathOf(name);
            var problems = WorkflowValidator.Validate(WorkflowLoader.Parse(text, path), registry);
            if (problems.Count > 0)
                return Results.UnprocessableEntity(new ErrorResponse(
                    $"workflows/{name}.json was not saved: {problems.Count} problem(s); the file on disk is unchanged", [.. problems.Select(ProblemView.From)]));
            var ifMatch = request.Headers.IfMatch.ToString();
            var createOnly = request.Headers.IfNoneMatch.ToString() == "*";
            if (ifMatch.Length == 0 && !createOnly)
            {
                if (files.Read(name) is { } existing)
                    return Results.Json(new ErrorResponse($"workflows/{name}.json exists; send If-Match: {existing.ETag} (the ETag you loaded) to replace it"),
                        statusCode: StatusCodes.Status428PreconditionRequired);
                createOnly = true;
            }
            try
            {
                var saved = await files.WriteAsync(name, text, ifMatch.Length > 0 ? ifMatch : null, createOnly).ConfigureAwait(false);
                response.Headers.ETag = saved.ETag;
                return Results.Ok(new SaveResult(name, saved.ETag, []));
            }
            catch (WorkflowConflictException e)
            {
                return Results.Json(new ErrorResponse(e.Message), statusCode: StatusCodes.Status412PreconditionFailed);
            }
            catch (FileNotFoundException e)
            {
                return Results.NotFound(new ErrorResponse(e.Message));
            }
        })
            .WithSummary("Saves a workflow: validated first (422 with the problems, file untouched), then written only if If-Match names the file on disk (412 otherwise); If-None-Match: * creates.")
            .Accepts<JsonObject>("application/json")
            .Produces<SaveResult>().Produces<ErrorResponse>(StatusCodes.Status412PreconditionFailed).Produces<ErrorResponse>(StatusCodes.Status422UnprocessableEntity);

        api.MapPost("/workflows/{name}/rename", async (string name, RenameRequest body, HttpRequest request, HttpResponse response, WorkflowFiles files) =>
        {
            if ((WorkflowName.Check(name) ?? WorkflowName.Check(body.To)) is { } bad) return Results.BadRequest(new ErrorResponse(bad));
            var file = files.Read(name);
            if (file is null) return Results.NotFound(new ErrorResponse($"no workflow '{name}' in {files.Directory}"));
            JsonObject json;
            try { json = JsonNode.Parse(file.Text)?.AsObject() ?? []; }
            catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException)
            {
                return Results.UnprocessableEntity(new ErrorResponse($"workflows/{name}.json is not a JSON object: {e.Message}"));
            }
            json["id"] = body.To;
            try
            {
                var ifMatch = request.Headers.IfMatch.ToString();
                var renamed = await files.RenameAsync(name, body.To, WorkflowFileFormatter.Format(json), ifMatch.Length > 0 ? ifMatch : null).ConfigureAwait(false);
                response.Headers.ETag = renamed.ETag;
                return Results.Ok(new SaveResult(body.To, renamed.ETag, []));
            }
            catch (WorkflowConflictException e)
            {
                return Results.Json(new ErrorResponse(e.Message), statusCode: StatusCodes.Status412PreconditionFailed);
            }
        })
            .WithSummary("Renames a workflow file and its id (If-Match required).")
            .Produces<SaveResult>();

        api.MapDelete("/workflows/{name}", async (string name, HttpRequest request, WorkflowFiles files) =>
        {
            if (WorkflowName.Check(name) is { } bad) return Results.BadRequest(new ErrorResponse(bad));
            try
            {
                var ifMatch = request.Headers.IfMatch.ToString();
                await files.DeleteAsync(name, ifMatch.Length > 0 ? ifMatch : null).ConfigureAwait(false);
                return Results.NoContent();
            }
            catch (WorkflowConflictException e) { return Results.Json(new ErrorResponse(e.Message), statusCode: StatusCodes.Status412PreconditionFailed); }
            catch (FileNotFoundException e) { return Results.NotFound(new ErrorResponse(e.Message)); }
        })
            .WithSummary("Deletes a workflow file (If-Match required).");

        api.MapPost("/workflows/{name}/validate", async (string name, HttpRequest request, WorkflowFiles files, ActivityRegistry registry) =>
        {
            if (WorkflowName.Check(name) is { } bad) return Results.BadRequest(new ErrorResponse(bad));
            if (request.ContentLength is null or 0 && !request.Headers.TransferEncoding.Any())
            {
                var file = files.Read(name);
                if (file is null) return Results.NotFound(new ErrorResponse($"no workflow '{name}' in {files.Directory}"));
                return Results.Ok(Validate(WorkflowLoader.Parse(file.Text, file.Path), registry));
            }
            return await ValidateBody(request, files.PathOf(name), registry).ConfigureAwait(false);
        })
            .WithSummary("Validates the file on disk, or the unsaved definition in the body.")
            .Produces<ValidationResult>();

        api.MapPost("/validate", (HttpRequest request, ActivityRegistry registry) => ValidateBody(request, "<unsaved>", registry))
            .WithSummary("Validates an unsaved definition.")
            .Accepts<JsonObject>("application/json")
            .Produces<ValidationResult>();

        async Task<IResult> ValidateBody(HttpRequest request, string source, ActivityRegistry registry)
        {
            var (json, _, error) = await RequestBody.ReadObjectAsync(request, max).ConfigureAwait(false);
            if (error is not null) return error;
            return Results.Ok(Validate(WorkflowLoader.Parse(json!.ToJsonString(), source), registry));
        }
    }

    private static ValidationResult Validate(WorkflowLoadResult load, ActivityRegistry registry)
    {
        var problems = WorkflowValidator.Validate(load, registry);
        return new ValidationResult(problems.Count == 0, [.. problems.Select(ProblemView.From)]);
    }
}
