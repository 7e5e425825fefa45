using PostTrain.Engine.Activities;
using PostTrain.Engine.Definitions;
using PostTrain.Engine.Validation;

namespace PostTrain.Engine.Tests;

public sealed class ReferenceRulesTests
{
    private const string Nested = """
    {"id":"nested","activities":[
      {"id":"a","type":"Add","inputs":{"x":1}},
      {"id":"rounds","type":"repeat","count":2,"body":[
        {"id":"b","type":"Add","inputs":{"x":1}},
        {"id":"fan","type":"forEach","items":[1,2],"body":[
          {"id":"c","type":"Add","inputs":{"x":{"var":"item"}}},
          {"id":"d","type":"Add","inputs":{"x":{"from":"c.sum"}}}
        ]}
      ]}
    ]}
    """;

    private static WorkflowDefinition Definition() => WorkflowLoader.Parse(Nested, "nested.json").Definition!;

    [Fact]
    public void For_NodeInForEachInRepeat_SeesEnclosingScopesButNotItselfOrItsContainers()
    {
        var refs = ReferenceRules.For(Definition(), "d")!;
        Assert.Equal(["c", "b", "a"], refs.Visible);
        Assert.Equal(["b", "fan"], refs.Previous);
        Assert.Equal(["item", "index", "round"], refs.Variables);
    }

    [Fact]
    public void For_TopLevelNode_HasNoPreviousRoundAndNoVariables()
    {
        var refs = ReferenceRules.For(Definition(), "a")!;
        Assert.Equal(["rounds"], refs.Visible);
        Assert.Empty(refs.Previous);
        Assert.Empty(refs.Variables);
        Assert.Null(ReferenceRules.For(Definition(), "nope"));
    }

    [Fact]
    public void Validator_FollowsTheSameVariableRule_IndexIsNotBoundByRepeat()
    {
        var json = """{"id":"w","activities":[{"id":"r","type":"repeat","count":2,"body":[{"id":"x","type":"Add","inputs":{"x":{"var":"index"}}}]}]}""";
        var problems = WorkflowValidator.Validate(WorkflowLoader.Parse(json, "w.json"), ActivityRegistry.Default(typeof(ReferenceRulesTests).Assembly));
        Assert.DoesNotContain("index", ReferenceRules.For(WorkflowLoader.Parse(json, "w.json").Definition!, "x")!.Variables);
        Assert.Contains(problems, p => p.Message.Contains("only available inside a forEach body", StringComparison.Ordinal));
    }
}
