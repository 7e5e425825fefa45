using System.Text.Json.Nodes;
using PostTrain.Engine.Activities;
using PostTrain.Engine.Definitions;
using PostTrain.Engine.Runtime;
using PostTrain.Engine.Store;
using PostTrain.Engine.Tests.Support;
using PostTrain.Engine.Validation;

namespace PostTrain.Engine.Tests;

/// <summary>Issue 19's engine faults: values that overflow timers, deterministic errors retried, NaN metrics.</summary>
public sealed class FaultTests
{
    private static readonly ActivityRegistry Registry = ActivityRegistry.Default(typeof(FaultTests).Assembly);

    private static IReadOnlyList<WorkflowProblem> Validate(string json) => WorkflowValidator.Validate(WorkflowLoader.Parse(json, "faults.json"), Registry);

    private static string OneStep(string node) => $$"""{"id":"w","activities":[{{node}}]}""";

    [Theory]
    [InlineData("""{"maxAttempts":2,"backoffSeconds":1e300}""", "$.activities[0].retry.backoffSeconds")]
    [InlineData("""{"maxAttempts":40,"backoffSeconds":5}""", "$.activities[0].retry.maxAttempts")]
    [InlineData("""{"maxAttempts":2,"backoffSeconds":86401}""", "$.activities[0].retry.backoffSeconds")]
    public void Validate_RetryBeyondItsCaps_IsRefusedWithItsField(string retry, string field)
    {
        var problems = Validate(OneStep($$$"""{"id":"a","type":"Add","retry":{{{retry}}},"inputs":{"x":1}}"""));
        Assert.Contains(problems, p => p.Path == field && p.Message.Contains("must be between", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_RepeatCountOfThreeBillion_IsRefused()
    {
        var problems = Validate(OneStep("""{"id":"r","type":"repeat","count":3000000000,"body":[{"id":"a","type":"Add","inputs":{"x":1}}]}"""));
        Assert.Contains(problems, p => p.Path.EndsWith(".count", StringComparison.Ordinal) && p.Message.Contains($"between 1 and {WorkflowLimits.MaxRepeatCount}", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_RepeatCountFromAParameterWithoutSaneBound_IsRefused()
    {
        var problems = Validate("""
        {"id":"w","parameters":{"rounds":{"type":"int","default":3000000000}},
         "activities":[{"id":"r","type":"repeat","count":{"param":"rounds"},"body":[{"id":"a","type":"Add","inputs":{"x":1}}]}]}
        """);
        Assert.Contains(problems, p => p.Path.EndsWith(".count", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("-1", "below its minimum 0")]
    [InlineData("11", "above its maximum 10")]
    public void Validate_NumericInputOutsideItsDeclaredBounds_IsRefused(string value, string reason)
    {
        var problems = Validate(OneStep($$$"""{"id":"f","type":"Fault","inputs":{"bounded":{{{value}}}}}"""));
        var p = Assert.Single(problems);
        Assert.Equal("$.activities[0].inputs.bounded", p.Path);
        Assert.Contains(reason, p.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_ParameterDefaultOutsideTheInputsBounds_IsRefused()
    {
        var problems = Validate("""{"id":"w","parameters":{"b":{"type":"number","default":-3}},"activities":[{"id":"f","type":"Fault","inputs":{"bounded":{"param":"b"}}}]}""");
        Assert.Contains(problems, p => p.Path == "$.activities[0].inputs.bounded" && p.Message.Contains("below its minimum 0", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(1e300, 1)]
    [InlineData(5, 40)]
    [InlineData(double.NaN, 2)]
    [InlineData(double.PositiveInfinity, 3)]
    public void Backoff_HugeOrNaN_IsCappedNotThrown(double seconds, int failures)
    {
        var max = TimeSpan.FromMinutes(10);
        Assert.Equal(max, EngineTime.Backoff(seconds, failures, max));
    }

    [Fact]
    public async Task Run_DeterministicFormatError_FailsAtOnceWithTheReason()
    {
        using var home = new TestHome();
        await using var host = await EngineHost.StartAsync(home);
        var run = await host.RunAsync(home, OneStep("""{"id":"f","type":"Fault","retry":{"maxAttempts":3,"backoffSeconds":0.05},"inputs":{"kind":"format","failures":5}}"""));
        Assert.Equal(RunState.Failed, run.State);
        Assert.Contains("FormatException", run.Error);
        Assert.Contains("is no number", run.Error);
        Assert.Contains("not retried", run.Error);
        Assert.Equal(1, Assert.Single(run.Steps).Attempt);
    }

    [Fact]
    public async Task Run_TransientIoError_IsRetriedWithBackoff()
    {
        using var home = new TestHome();
        await using var host = await EngineHost.StartAsync(home);
        var run = await host.RunAsync(home, OneStep("""{"id":"f","type":"Fault","retry":{"maxAttempts":3,"backoffSeconds":0.05},"inputs":{"kind":"io","failures":2}}"""));
        Assert.Equal(RunState.Succeeded, run.State);
        Assert.Equal(3, Assert.Single(run.Steps).Attempt);
    }

    [Fact]
    public async Task Run_BoundedInputOutOfRangeAtRunTime_FailsAtOnceNamingTheInput()
    {
        using var home = new TestHome();
        await using var host = await EngineHost.StartAsync(home);
        var run = await host.RunAsync(home, """
        {"id":"w","parameters":{"b":{"type":"number","default":1}},"activities":[{"id":"f","type":"Fault","retry":{"maxAttempts":3,"backoffSeconds":0.05},"inputs":{"bounded":{"param":"b"}}}]}
        """, new Dictionary<string, string> { ["b"] = "-2" });
        Assert.Equal(RunState.Failed, run.State);
        Assert.Contains("bounded is -2, below its minimum 0", run.Error);
        Assert.Equal(1, Assert.Single(run.Steps).Attempt);
    }

    [Fact]
    public async Task Run_StepRecordingANaNMetric_CompletesAndIsCached()
    {
        using var home = new TestHome();
        await using var host = await EngineHost.StartAsync(home);
        var run = await host.RunAsync(home, OneStep("""{"id":"f","type":"Fault","inputs":{"failures":0,"metric":"NaN"}}"""));
        Assert.Equal(RunState.Succeeded, run.State);
        Assert.True(double.IsNaN(Assert.Single(host.Engine.Metrics(run.Id)).Value));
        Assert.Single(Directory.GetFiles(new PostTrainHome(home.Root).CacheDirectory, "*.json"));
    }
}
