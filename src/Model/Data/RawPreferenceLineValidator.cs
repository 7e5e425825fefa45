using System.Text.Json;
using FluentValidation;
using PostTrain.Model.Tokenization;

namespace PostTrain.Model.Data;

/// <summary>JSON-shape rules: each field has the type its format needs (string or message list, number, string map).</summary>
internal sealed class RawPreferenceLineValidator : AbstractValidator<RawPreferenceLine>
{
    public RawPreferenceLineValidator()
    {
        RuleFor(x => x).Custom((x, ctx) =>
        {
            if (x.Prompt is { } prompt) TextOrMessages(prompt, "prompt", ctx);
            TextOrMessages(x.Chosen, "chosen", ctx);
            TextOrMessages(x.Rejected, "rejected", ctx);
            if (x.Edited is { ValueKind: not JsonValueKind.Null } edited && edited.ValueKind != JsonValueKind.String)
                ctx.AddFailure("edited", $"expected a string, found {Describe(edited)}");
            Number(x.ScoreChosen, "score_chosen", ctx);
            Number(x.ScoreRejected, "score_rejected", ctx);
            Number(x.Margin, "margin", ctx);
            if (x.Source is { ValueKind: not JsonValueKind.Null } source)
            {
                if (source.ValueKind != JsonValueKind.Object) ctx.AddFailure("source", $"expected an object of strings, found {Describe(source)}");
                else
                    foreach (var p in source.EnumerateObject())
                        if (p.Value.ValueKind != JsonValueKind.String)
                            ctx.AddFailure($"source.{p.Name}", $"expected a string, found {Describe(p.Value)}");
            }
        });
    }

    private static void TextOrMessages(JsonElement e, string field, ValidationContext<RawPreferenceLine> ctx)
    {
        if (e.ValueKind == JsonValueKind.String) return;
        if (e.ValueKind != JsonValueKind.Array)
        {
            ctx.AddFailure(field, $"expected a string or a list of {{\"role\", \"content\"}} messages, found {Describe(e)}");
            return;
        }
        var i = 0;
        foreach (var m in e.EnumerateArray())
        {
            var at = $"{field}[{i++}]";
            if (m.ValueKind != JsonValueKind.Object) { ctx.AddFailure(at, $"expected a {{\"role\", \"content\"}} object, found {Describe(m)}"); continue; }
            if (!m.TryGetProperty("role", out var role) || role.ValueKind != JsonValueKind.String)
                ctx.AddFailure($"{at}.role", $"expected a string, found {(m.TryGetProperty("role", out var r) ? Describe(r) : "nothing")}");
            else if (!ChatTemplate.Roles.Contains(role.GetString()))
                ctx.AddFailure($"{at}.role", $"expected one of {string.Join(", ", ChatTemplate.Roles)}, found \"{role.GetString()}\"");
            if (!m.TryGetProperty("content", out var content) || content.ValueKind != JsonValueKind.String)
                ctx.AddFailure($"{at}.content", $"expected a string, found {(m.TryGetProperty("content", out var c) ? Describe(c) : "nothing")}");
        }
    }

    private static void Number(JsonElement? e, string field, ValidationContext<RawPreferenceLine> ctx)
    {
        if (e is not { ValueKind: not JsonValueKind.Null } v) return;
        if (v.ValueKind != JsonValueKind.Number || !double.IsFinite(v.GetDouble()))
            ctx.AddFailure(field, $"expected a finite number, found {Describe(v)}");
    }

    internal static string Describe(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.String => $"string \"{Truncate(e.GetString()!)}\"",
        JsonValueKind.Number => $"number {e.GetRawText()}",
        JsonValueKind.True or JsonValueKind.False => $"boolean {e.GetRawText()}",
        JsonValueKind.Null => "null",
        JsonValueKind.Array => $"array of {e.GetArrayLength()}",
        _ => "object",
    };

    private static string Truncate(string s) => s.Length <= 40 ? s : s[..40] + "…";
}
