using System.Text.Json;
using PostTrain.Model.Tokenization.Jinja;

namespace PostTrain.Model.Tests.Tokenization.Jinja;

/// <summary>
/// Renders of published chat templates (Llama 2, Mistral, Zephyr/TinyLlama, ChatML/Qwen2, Llama 3, Llama 3.1, Qwen3,
/// PostTrain's own, and one exercising the whole subset) against python3-jinja2 configured as Hugging Face's
/// apply_chat_template (tests/fixtures-gen/make_template_fixtures.py), including the templates' raise_exception.
/// </summary>
public sealed class JinjaTemplateParityTests
{
    private static string FixturePath(string file) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "templates", file);

    public static TheoryData<string> Templates()
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(FixturePath("templates.json")));
        var data = new TheoryData<string>();
        foreach (var p in doc.RootElement.EnumerateObject()) data.Add(p.Name);
        return data;
    }

    [Theory]
    [MemberData(nameof(Templates))]
    public void Render_PublishedTemplate_MatchesJinja2(string name)
    {
        using var templates = JsonDocument.Parse(File.ReadAllBytes(FixturePath("templates.json")));
        using var expected = JsonDocument.Parse(File.ReadAllBytes(FixturePath("expected.json")));
        var spec = templates.RootElement.GetProperty(name);
        var template = JinjaTemplate.Parse(spec.GetProperty("template").GetString()!, name);
        var conversations = expected.RootElement.GetProperty("conversations");
        var failures = new List<string>();
        var count = 0;
        foreach (var c in expected.RootElement.GetProperty("cases").EnumerateArray().Where(c => c.GetProperty("template").GetString() == name))
        {
            count++;
            var variables = new Dictionary<string, object?>
            {
                ["messages"] = JinjaTemplate.FromJson(conversations.GetProperty(c.GetProperty("conversation").GetString()!)),
                ["add_generation_prompt"] = c.GetProperty("add_generation_prompt").GetBoolean(),
                ["tools"] = null,
                ["documents"] = null,
                ["eos_token"] = spec.GetProperty("eos_token").GetString(),
            };
            if (spec.GetProperty("bos_token").GetString() is { } bos) variables["bos_token"] = bos;
            var label = $"{c.GetProperty("conversation").GetString()}, add_generation_prompt={c.GetProperty("add_generation_prompt").GetBoolean()}";
            if (c.TryGetProperty("error", out var error))
            {
                var e = Record.Exception(() => template.Render(variables));
                if (e is not JinjaException || !e.Message.Contains(error.GetString()!, StringComparison.Ordinal))
                    failures.Add($"{label}: expected raise_exception \"{error.GetString()}\", got {e?.Message ?? "no error"}");
                continue;
            }
            var want = c.GetProperty("text").GetString()!;
            string got;
            try { got = template.Render(variables); }
            catch (JinjaException e) { failures.Add($"{label}: {e.Message}"); continue; }
            if (got != want) failures.Add($"{label}:\n--- jinja2\n{JsonSerializer.Serialize(want)}\n--- PostTrain\n{JsonSerializer.Serialize(got)}");
        }
        Assert.True(count >= 10, $"{name}: only {count} cases");
        Assert.True(failures.Count == 0, $"{name}: {failures.Count} of {count} renders differ:\n{string.Join("\n", failures)}");
    }

    [Theory]
    [InlineData("{% macro greet(x) %}hi{% endmacro %}", "'{% macro %}'")]
    [InlineData("{{ messages | groupby('role') }}", "filter 'groupby'")]
    [InlineData("{% include 'other.jinja' %}", "'{% include %}'")]
    [InlineData("{% set x %}block{% endset %}", "block set")]
    [InlineData("{% for m in messages recursive %}{% endfor %}", "'recursive'")]
    public void Parse_ConstructOutsideSubset_RefusedByNameWithHowToPassOne(string template, string construct)
    {
        var e = Assert.Throws<JinjaException>(() => JinjaTemplate.Parse(template, "DIR/tokenizer_config.json: chat_template"));
        Assert.Contains("DIR/tokenizer_config.json: chat_template: line 1", e.Message);
        Assert.Contains(construct, e.Message);
        Assert.Contains("--chat-template FILE", e.Message);
    }

    [Theory]
    [InlineData("{% if x %}open", "never closed")]
    [InlineData("{{ 'unterminated }}", "unclosed")]
    [InlineData("{% endfor %}", "no open block")]
    [InlineData("{{ a + }}", "unexpected")]
    public void Parse_SyntaxError_NamesSourceAndLine(string template, string reason)
    {
        var e = Assert.Throws<JinjaException>(() => JinjaTemplate.Parse(template, "T"));
        Assert.StartsWith("T: line 1", e.Message);
        Assert.Contains(reason, e.Message);
    }

    [Fact]
    public void Render_AttributeOfUndefined_FailsWithLine()
    {
        var t = JinjaTemplate.Parse("ok\n{{ nothing.content }}", "T");
        var e = Assert.Throws<JinjaException>(() => t.Render(new Dictionary<string, object?>()));
        Assert.Contains("T: line 2", e.Message);
    }
}
