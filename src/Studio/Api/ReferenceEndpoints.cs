using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using PostTrain.Engine.Definitions;

namespace PostTrain.Studio.Api;

/// <summary>
/// /api/references: what one node of an unsaved definition may refer to, by the engine's <see cref="ReferenceRules"/>
/// (the rules the validator and the planner apply), so the editor offers exactly the references that will validate
/// instead of keeping its own copy of the rules.
/// </summary>
public static class ReferenceEndpoints
{
    public static void Map(IEndpointRouteBuilder app, StudioOptions options)
    {
        app.MapPost("/api/references", async (string node, HttpRequest request) =>
        {
            var (json, _, error) = await RequestBody.ReadObjectAsync(request, options.MaxRequestBodyBytes).ConfigureAwait(false);
            if (error is not null) return error;
            // An editor's definition is often unfinished: its problems are the validate call's business, not this one's.
            var load = WorkflowLoader.Parse(json!.ToJsonString(), "<unsaved>");
            if (load.Definition is null)
                return Results.UnprocessableEntity(new ValidationResult(false, [.. load.Problems.Select(ProblemView.From)]));
            return ReferenceRules.For(load.Definition, node) is { } refs
                ? Results.Ok(refs)
                : Results.NotFound(new ErrorResponse($"node: no activity or container with id '{node}' in the definition"));
        })
            .WithTags("workflows")
            .WithSummary("For ?node=ID of the definition in the body: the activity ids whose outputs it may read (visible), those it may read from the previous round of its repeat (previous) and the loop variables in scope (variables).")
            .Accepts<System.Text.Json.Nodes.JsonObject>("application/json")
            .Produces<NodeReferences>().Produces<ValidationResult>(StatusCodes.Status422UnprocessableEntity).Produces<ErrorResponse>(StatusCodes.Status404NotFound);
    }
}
