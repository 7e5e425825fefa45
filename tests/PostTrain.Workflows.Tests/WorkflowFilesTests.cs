using PostTrain.Workflows.Activities;
using PostTrain.Engine.Definitions;
using PostTrain.Workflows.Validation;

namespace PostTrain.Workflows.Tests;

public sealed class WorkflowFilesTests
{
    private static string RepoWorkflows()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "PostTrain.sln"))) return Path.Combine(d.FullName, "workflows");
        throw new DirectoryNotFoundException("PostTrain.sln not found above " + AppContext.BaseDirectory);
    }

    [Theory]
    [InlineData("pretrain.json")]
    [InlineData("iterate.json")]
    [InlineData("on-preference-data.json")]
    [InlineData("sft.json")]
    [InlineData("dpo.json")]
    [InlineData("reward.json")]
    [InlineData("scaling-law.json")]
    [InlineData("distill.json")]
    public void RepoWorkflow_Parses_AndOnlyMissesStageActivities(string file)
    {
        var load = WorkflowLoader.LoadFile(Path.Combine(RepoWorkflows(), file));
        Assert.Empty(load.Problems);
        var registry = PostTrainApplication.Registry();
        var problems = WorkflowValidator.Validate(load, registry);
        // Until src/Workflows/Activities/Stages lands, the only problems allowed are activity types this build lacks.
        Assert.All(problems, p => Assert.Matches(@"^unknown activity type '(\w+)'", p.Message));
        Assert.All(problems, p => Assert.False(registry.TryGet(System.Text.RegularExpressions.Regex.Match(p.Message, "'(\\w+)'").Groups[1].Value, out _)));
    }

    [Fact]
    public void OnPreferenceData_BindsTriggerToPreferencesParameter()
    {
        var def = WorkflowLoader.LoadFile(Path.Combine(RepoWorkflows(), "on-preference-data.json")).Definition!;
        var t = Assert.Single(def.Triggers);
        Assert.Equal(KnownTriggers.PreferenceDataArrived, t.Event);
        Assert.Equal("dataset", t.Parameters["preferences"]);
    }

    [Fact]
    public void Iterate_BindsPromptsArrivedToPromptSetAndVerifier()
    {
        var def = WorkflowLoader.LoadFile(Path.Combine(RepoWorkflows(), "iterate.json")).Definition!;
        var t = Assert.Single(def.Triggers);
        Assert.Equal(KnownTriggers.PromptsArrived, t.Event);
        Assert.Equal("dataset", t.Parameters["promptSet"]);
        Assert.Equal("verifier", t.Parameters["verifier"]);
    }
}
