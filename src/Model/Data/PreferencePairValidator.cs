using FluentValidation;
using PostTrain.Model.Tokenization;

namespace PostTrain.Model.Data;

/// <summary>Content rules on a converted pair: non-empty texts, chosen differs from rejected, scores ordered, fits the context.</summary>
internal sealed class PreferencePairValidator : AbstractValidator<PreferencePair>
{
    public PreferencePairValidator(PreferenceImportOptions options)
    {
        RuleFor(x => x.Prompt).NotEmpty().OverridePropertyName("prompt").WithMessage("expected at least one message, found none");
        RuleForEach(x => x.Prompt).ChildRules(m =>
        {
            m.RuleFor(x => x.Content).Must(c => !string.IsNullOrWhiteSpace(c)).OverridePropertyName("content").WithMessage("expected non-empty text, found an empty string");
            m.RuleFor(x => x.Role).Must(ChatTemplate.Roles.Contains).OverridePropertyName("role")
                .WithMessage((_, r) => $"expected one of {string.Join(", ", ChatTemplate.Roles)}, found \"{r}\"");
        }).OverridePropertyName("prompt");
        RuleFor(x => x.Chosen).Must(s => !string.IsNullOrWhiteSpace(s)).OverridePropertyName("chosen").WithMessage("expected non-empty text, found an empty string");
        RuleFor(x => x.Rejected).Must(s => !string.IsNullOrWhiteSpace(s)).OverridePropertyName("rejected").WithMessage("expected non-empty text, found an empty string");
        RuleFor(x => x.Rejected).NotEqual(x => x.Chosen, StringComparer.Ordinal).When(x => !string.IsNullOrWhiteSpace(x.Chosen))
            .OverridePropertyName("rejected").WithMessage("identical to chosen; a preference pair needs two different responses");
        RuleFor(x => x.Edited).Must(s => !string.IsNullOrWhiteSpace(s)).When(x => x.Edited is not null)
            .OverridePropertyName("edited").WithMessage("expected non-empty text or no field, found an empty string");
        RuleFor(x => x).Must(x => x.ScoreChosen >= x.ScoreRejected).When(x => x.ScoreChosen is not null && x.ScoreRejected is not null)
            .OverridePropertyName("score_chosen").WithMessage(x => $"{x.ScoreChosen} is below score_rejected {x.ScoreRejected}; chosen must score at least as high");
        if (TokenCounter(options) is { } count)
        {
            RuleFor(x => x).Custom((x, ctx) =>
            {
                if (x.Prompt.Count == 0 || x.Prompt.Any(m => m is null || !ChatTemplate.Roles.Contains(m.Role))) return;
                foreach (var (field, response) in new[] { ("chosen", x.Chosen), ("rejected", x.Rejected), ("edited", x.Edited) })
                {
                    if (response is null) continue;
                    var n = count(x.Prompt, response);
                    if (n > options.MaxTokens)
                        ctx.AddFailure(field, $"prompt + {field} is {n} tokens, max is {options.MaxTokens}");
                }
            });
        }
    }

    private static Func<IReadOnlyList<ChatMessage>, string, int>? TokenCounter(PreferenceImportOptions options)
    {
        var template = options.Template;
        if (template is null && options.Tokenizer is { } tokenizer)
        {
            if (SpecialTokens.All.Take(5).All(s => tokenizer.TokenToId(s) is not null)) template = new ChatTemplate(tokenizer);
            else return (prompt, response) => prompt.Sum(m => tokenizer.Encode(m.Content).Length) + tokenizer.Encode(response).Length;
        }
        return template is null ? null : (prompt, response) => template.EncodeExample(prompt, response).Length;
    }
}
