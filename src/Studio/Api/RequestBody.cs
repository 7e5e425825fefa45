using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace PostTrain.Studio.Api;

/// <summary>Reads a request body as JSON within the size limit, with the reason when it is too large or malformed.</summary>
public static class RequestBody
{
    private static readonly JsonDocumentOptions DocumentOptions = new() { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };

    /// <summary>The text, or an error result (413 too large).</summary>
    public static async Task<(string? Text, IResult? Error)> ReadTextAsync(HttpRequest request, long maxBytes)
    {
        if (request.ContentLength > maxBytes)
            return (null, TooLarge(request.ContentLength.Value, maxBytes));
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        try
        {
            while ((read = await request.Body.ReadAsync(chunk, request.HttpContext.RequestAborted).ConfigureAwait(false)) > 0)
            {
                if (buffer.Length + read > maxBytes) return (null, TooLarge(buffer.Length + read, maxBytes));
                buffer.Write(chunk, 0, read);
            }
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return (null, TooLarge(maxBytes + 1, maxBytes));
        }
        return (Encoding.UTF8.GetString(buffer.ToArray()), null);
    }

    /// <summary>The body as a JSON object, or 400 with the parser's line and position, or 413.</summary>
    public static async Task<(JsonObject? Json, string? Text, IResult? Error)> ReadObjectAsync(HttpRequest request, long maxBytes)
    {
        var (text, error) = await ReadTextAsync(request, maxBytes).ConfigureAwait(false);
        if (error is not null) return (null, null, error);
        if (string.IsNullOrWhiteSpace(text))
            return (null, null, Results.BadRequest(new ErrorResponse("the request body is empty; expected a workflow JSON object")));
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(text, documentOptions: DocumentOptions);
        }
        catch (JsonException e)
        {
            var line = (int)(e.LineNumber ?? 0) + 1;
            var position = (int)(e.BytePositionInLine ?? 0) + 1;
            var reason = e.Message.Split(" Path:", 2)[0].Trim();
            return (null, null, Results.BadRequest(new ErrorResponse($"malformed JSON at line {line}, position {position}: {reason}",
                [new ProblemView("$", reason, line, position)])));
        }
        if (node is not JsonObject obj)
            return (null, null, Results.BadRequest(new ErrorResponse($"expected a JSON object at the top level, got {Describe(node)}",
                [new ProblemView("$", $"expected a JSON object, got {Describe(node)}")])));
        return (obj, text, null);
    }

    private static string Describe(JsonNode? n) => n switch { null => "null", JsonArray => "an array", _ => "a value" };

    private static IResult TooLarge(long actual, long max) =>
        Results.Json(new ErrorResponse($"request body of {actual} bytes or more is over the limit of {max} bytes"), statusCode: StatusCodes.Status413PayloadTooLarge);
}
