using PostTrain.Engine.Activities;
using PostTrain.Engine.Definitions;
using PostTrain.Engine.Validation;

namespace PostTrain.Engine.Tests;

public sealed class ValidationTests
{
    private static readonly ActivityRegistry Registry = ActivityRegistry.Default(typeof(ValidationTests).Assembly);

    private static IReadOnlyList<WorkflowProblem> Validate(string json) => WorkflowValidator.Validate(WorkflowLoader.Parse(json, "test.json"), Registry);

    private const string Valid = """
    {
      "id": "ok", "version": 1,
      "parameters": { "rounds": { "type": "int", "default": 3, "min": 1, "max": 10 } },
      "activities": [
        { "id": "a", "type": "Add", "inputs": { "x": 1, "y": { "param": "rounds" } } },
        { "id": "loop", "type": "repeat", "count": { "param": "rounds" },
          "body": [
            { "id": "fan", "type": "forEach", "items": [1, 2, 3],
              "body": [ { "id": "b", "type": "Add", "inputs": { "x": { "var": "item" }, "y": { "fromPrevious": "join.total", "initial": { "from": "a.sum" } } } } ],
              "outputs": { "sums": { "from": "b.sum" } } },
            { "id": "join", "type": "Sum", "inputs": { "values": { "from": "fan.sums" } } }
          ],
          "outputs": { "total": { "from": "join.total" } } }
      ],
      "outputs": { "total": { "from": "loop.total" } }
    }
    """;

    [Fact]
    public void Validate_ValidWorkflow_NoProblems() => Assert.Empty(Validate(Valid));

    [Fact]
    public void Validate_UnknownActivityType_NamesTypeAndPath()
    {
        var p = Assert.Single(Validate("""{"id":"w","activities":[{"id":"a","type":"NoSuchActivity","inputs":{}}]}"""));
        Assert.Equal("$.activities[0].type", p.Path);
        Assert.Contains("unknown activity type 'NoSuchActivity'", p.Message);
        Assert.Contains("Add", p.Message);
    }

    [Fact]
    public void Validate_MissingRequiredInput_Reported()
    {
        var p = Assert.Single(Validate("""{"id":"w","activities":[{"id":"a","type":"Add","inputs":{"y":2}}]}"""));
        Assert.Equal("$.activities[0].inputs", p.Path);
        Assert.Contains("missing required input 'x'", p.Message);
    }

    [Fact]
    public void Validate_TypeMismatch_ReportsExpectedAndActual()
    {
        var p = Assert.Single(Validate("""{"id":"w","activities":[{"id":"a","type":"Add","inputs":{"x":"one"}}]}"""));
        Assert.Equal("$.activities[0].inputs.x", p.Path);
        Assert.Contains("expected number, got string", p.Message);
    }

    [Fact]
    public void Validate_ReferenceTypeMismatch_Reported()
    {
        var p = Assert.Single(Validate("""
        {"id":"w","activities":[
          {"id":"c","type":"Concat","inputs":{"parts":["a"]}},
          {"id":"a","type":"Add","inputs":{"x":{"from":"c.text"}}}]}
        """));
        Assert.Equal("$.activities[1].inputs.x", p.Path);
        Assert.Contains("expected number", p.Message);
    }

    [Fact]
    public void Validate_ReferenceToMissingOutput_ListsOutputs()
    {
        var problems = Validate("""
        {"id":"w","activities":[
          {"id":"a","type":"Add","inputs":{"x":1}},
          {"id":"b","type":"Add","inputs":{"x":{"from":"a.total"}, "y":{"from":"zzz.sum"}}}]}
        """);
        Assert.Contains(problems, p => p.Path == "$.activities[1].inputs.x" && p.Message.Contains("has no output 'total'") && p.Message.Contains("sum"));
        Assert.Contains(problems, p => p.Path == "$.activities[1].inputs.y" && p.Message.Contains("no activity has id 'zzz'"));
    }

    [Fact]
    public void Validate_ReferenceIntoLoopBody_NotProducedAtThatPoint()
    {
        var p = Assert.Single(Validate("""
        {"id":"w","activities":[
          {"id":"loop","type":"repeat","count":2,"body":[{"id":"inner","type":"Add","inputs":{"x":1}}]},
          {"id":"after","type":"Add","inputs":{"x":{"from":"inner.sum"}}}]}
        """));
        Assert.Equal("$.activities[1].inputs.x", p.Path);
        Assert.Contains("not produced at this point", p.Message);
    }

    [Fact]
    public void Validate_Cycle_Reported()
    {
        var problems = Validate("""
        {"id":"w","activities":[
          {"id":"a","type":"Add","inputs":{"x":{"from":"b.sum"}}},
          {"id":"b","type":"Add","inputs":{"x":{"from":"a.sum"}}}]}
        """);
        var p = Assert.Single(problems);
        Assert.Contains("cycle: a -> b -> a", p.Message);
    }

    [Fact]
    public void Validate_ParameterOutOfRange_Reported()
    {
        var p = Assert.Single(Validate("""
        {"id":"w","parameters":{"rounds":{"type":"int","default":50,"min":1,"max":20}},
         "activities":[{"id":"a","type":"Add","inputs":{"x":{"param":"rounds"}}}]}
        """));
        Assert.Equal("$.parameters.rounds.default", p.Path);
        Assert.Contains("above max 20", p.Message);
    }

    [Fact]
    public void Validate_DuplicateIds_Reported()
    {
        var p = Assert.Single(Validate("""
        {"id":"w","activities":[
          {"id":"a","type":"Add","inputs":{"x":1}},
          {"id":"loop","type":"repeat","count":2,"body":[{"id":"a","type":"Add","inputs":{"x":2}}]}]}
        """));
        Assert.Equal("$.activities[1].body[0].id", p.Path);
        Assert.Contains("duplicate id 'a'", p.Message);
    }

    [Fact]
    public void Validate_MalformedJson_ReportsLineAndPosition()
    {
        var p = Assert.Single(Validate("{\n  \"id\": \"w\",\n  \"activities\": [ { \"id\": \"a\" \"type\": \"Add\" } ]\n}"));
        Assert.Equal(3, p.Line);
        Assert.NotNull(p.Position);
        Assert.Contains("malformed JSON", p.Message);
        Assert.StartsWith("test.json:3:", p.Format("test.json"));
    }

    [Fact]
    public void Validate_ManyProblems_AllReportedAtOnce()
    {
        var problems = Validate("""
        {"id":"w","parameters":{"n":{"type":"int","default":0,"min":1}},
         "activities":[
          {"id":"a","type":"Nope"},
          {"id":"b","type":"Add","inputs":{"x":"s","bogus":1}},
          {"id":"b","type":"Add","inputs":{"x":{"var":"round"}}},
          {"id":"d","type":"Add","inputs":{"x":{"fromPrevious":"d.sum","initial":0}}}]}
        """);
        Assert.Contains(problems, p => p.Path == "$.parameters.n.default");
        Assert.Contains(problems, p => p.Path == "$.activities[0].type");
        Assert.Contains(problems, p => p.Path == "$.activities[1].inputs.x");
        Assert.Contains(problems, p => p.Path == "$.activities[1].inputs.bogus" && p.Message.Contains("no input 'bogus'"));
        Assert.Contains(problems, p => p.Path == "$.activities[2].id");
        Assert.Contains(problems, p => p.Path == "$.activities[2].inputs.x" && p.Message.Contains("only available inside a repeat"));
        Assert.Contains(problems, p => p.Path == "$.activities[3].inputs.x" && p.Message.Contains("inside a repeat"));
    }

    [Fact]
    public void Validate_StructuralProblems_NamePaths()
    {
        var problems = Validate("""{"id":5,"activities":[{"id":"a","type":"repeat","body":[]},{"type":"Add","inputs":{"x":1},"inptus":{}}]}""");
        Assert.Contains(problems, p => p.Path == "$.id" && p.Message.Contains("expected a string"));
        Assert.Contains(problems, p => p.Path == "$.activities[0]" && p.Message.Contains("needs \"count\""));
        Assert.Contains(problems, p => p.Path == "$.activities[1].id" && p.Message.Contains("missing required property"));
        Assert.Contains(problems, p => p.Path == "$.activities[1].inptus" && p.Message.Contains("unknown property"));
    }

    [Fact]
    public void Bind_ParameterAboveMax_ReportsFlag()
    {
        var def = WorkflowLoader.Parse(Valid, "ok.json").Definition!;
        var (_, errors) = ParameterBinder.Bind(def, new Dictionary<string, string> { ["rounds"] = "11", ["nope"] = "1" });
        Assert.Contains(errors, e => e.Contains("--param rounds=11") && e.Contains("above max 10"));
        Assert.Contains(errors, e => e.Contains("no parameter 'nope'"));
    }

    [Fact]
    public void Descriptor_FromCode_HasTypesDefaultsAndRequired()
    {
        var d = Registry.Get("Add");
        Assert.Equal("Test", d.Category);
        var x = d.Input("x")!;
        Assert.True(x.Required);
        Assert.Equal("number", x.Type);
        Assert.Equal("First addend", x.Description);
        var y = d.Input("y")!;
        Assert.False(y.Required);
        Assert.Equal(0.0, y.Default!.GetValue<double>());
        Assert.Equal("number", Assert.Single(d.Outputs).Type);
        Assert.Equal("artifact", Registry.Get("WriteFile").Output("file")!.Type);
        Assert.Equal("number[]", Registry.Get("Sum").Input("values")!.Type);
    }
}
