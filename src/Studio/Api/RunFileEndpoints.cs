using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.StaticFiles;
using PostTrain.Engine.Store;
using PostTrain.Studio.Runs;
using PostTrain.Workflows.Reports;

namespace PostTrain.Studio.Api;

/// <summary>
/// What a run leaves on disk, for the monitor's links: its quality report (HOME/runs/RUN/report.md and the charts
/// beside it) and its checkpoints and other artifacts (HOME/artifacts/objects/HASH). Read-only; a file outside the
/// run's folder or the artifact is never served.
/// </summary>
public static class RunFileEndpoints
{
    /// <summary>config.json and metadata.json are shown inline up to this size; the files list has the rest.</summary>
    private const long InlineJsonBytes = 1 << 20;

    private static readonly FileExtensionContentTypeProvider ContentTypes = new()
    {
        Mappings = { [".md"] = "text/markdown; charset=utf-8", [".jsonl"] = "application/jsonl", [".safetensors"] = "application/octet-stream" },
    };

    public static void Map(IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api").WithTags("runs");

        api.MapGet("/runs/{id:guid}/report", (Guid id, PostTrainHome home, RunViews views) =>
        {
            if (views.Get(id) is null) return Results.NotFound(new ErrorResponse($"no run {id}"));
            var dir = RunDirectory(home, id);
            var path = Path.Combine(dir, QualityReportWriter.MarkdownFile);
            if (!File.Exists(path))
                return Results.NotFound(new ErrorResponse($"run {id} has no report yet: {path} does not exist (posttrain report {id} --home {home.Root} writes it)"));
            var files = Directory.EnumerateFiles(dir).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal).ToList();
            return Results.Ok(new RunReportView(id, path, File.ReadAllText(path), files));
        })
            .WithSummary("The run's quality report (Markdown) and the files beside it; 404 until one is written.")
            .Produces<RunReportView>().Produces<ErrorResponse>(StatusCodes.Status404NotFound);

        api.MapGet("/runs/{id:guid}/report/{file}", (Guid id, string file, PostTrainHome home) =>
            Serve(RunDirectory(home, id), file))
            .WithSummary("A file of the run's report folder (report.md, rounds.png, elo.png).");

        api.MapGet("/artifacts/{reference}", (string reference, ArtifactStore store, PostTrainHome home, RunViews views) =>
        {
            if (Parse(reference, out var artifact) is { } bad) return bad;
            if (!store.Exists(artifact)) return Results.NotFound(new ErrorResponse($"artifact {artifact} is not in {store.Root}"));
            var path = store.PathOf(artifact);
            var isDirectory = Directory.Exists(path);
            var files = isDirectory
                ? Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories)
                    .Select(f => new ArtifactFileView(Path.GetRelativePath(path, f).Replace(Path.DirectorySeparatorChar, '/'), new FileInfo(f).Length))
                    .OrderBy(f => f.Name, StringComparer.Ordinal).ToList()
                : [new ArtifactFileView("", new FileInfo(path).Length)];
            var lineage = views.Checkpoints(null).Where(c => c.Artifact == artifact.ToString()).ToList();
            return Results.Ok(new ArtifactView(artifact.ToString(), path, isDirectory, files,
                isDirectory ? SmallJson(Path.Combine(path, "config.json")) : null, isDirectory ? SmallJson(Path.Combine(path, "metadata.json")) : null,
                lineage, $"posttrain export {artifact} --out DIR --home {home.Root}"));
        })
            .WithSummary("A stored artifact: path, files with sizes, a checkpoint's config.json and metadata.json, its lineage, and the export command.")
            .Produces<ArtifactView>().Produces<ErrorResponse>(StatusCodes.Status404NotFound);

        api.MapGet("/artifacts/{reference}/files/{**name}", (string reference, string name, ArtifactStore store) =>
        {
            if (Parse(reference, out var artifact) is { } bad) return bad;
            var path = store.PathOf(artifact);
            return Directory.Exists(path) ? Serve(path, name) : Results.NotFound(new ErrorResponse($"artifact {artifact} is not a directory in {store.Root}"));
        })
            .WithSummary("One file of a stored artifact directory (a checkpoint's config.json, tokenizer.json, model.safetensors, ...).");
    }

    private static string RunDirectory(PostTrainHome home, Guid id) => Path.Combine(home.RunsDirectory, id.ToString("D"));

    private static IResult? Parse(string reference, out ArtifactRef artifact)
    {
        try
        {
            artifact = ArtifactRef.Parse(reference);
            return null;
        }
        catch (FormatException e)
        {
            artifact = default;
            return Results.BadRequest(new ErrorResponse(e.Message));
        }
    }

    /// <summary>A file inside <paramref name="root"/> by its relative name; anything that resolves outside it is refused.</summary>
    private static IResult Serve(string root, string name)
    {
        var full = Path.GetFullPath(Path.Combine(root, name));
        var inside = Path.GetFullPath(root).TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar;
        if (!full.StartsWith(inside, StringComparison.Ordinal))
            return Results.BadRequest(new ErrorResponse($"'{name}': a file name inside {root} expected"));
        if (!File.Exists(full)) return Results.NotFound(new ErrorResponse($"{full} does not exist"));
        return Results.File(full, ContentTypes.TryGetContentType(full, out var type) ? type : "application/octet-stream", enableRangeProcessing: true);
    }

    private static JsonNode? SmallJson(string path)
    {
        if (!File.Exists(path) || new FileInfo(path).Length > InlineJsonBytes) return null;
        try { return JsonNode.Parse(File.ReadAllText(path)); }
        catch (System.Text.Json.JsonException) { return null; }
    }
}
