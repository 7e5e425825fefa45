using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using PostTrain.Workflows.Contracts;
using PostTrain.Engine.Store;
using PostTrain.Engine.Tests.Support;
using PostTrain.Workflows.Hosting;
using PostTrain.Workflows.Tests.Support;
using PostTrain.Workflows.Triggers;

namespace PostTrain.Workflows.Tests;

public sealed class TriggerTests
{
    private const string OnPreferences = """
    {"id":"on-prefs","parameters":{"preferences":{"type":"artifact"}},
     "triggers":[{"event":"PreferenceDataArrived","parameters":{"preferences":"dataset"}}],
     "activities":[{"id":"count","type":"CountLines","inputs":{"file":{"param":"preferences"}}}],
     "outputs":{"lines":{"from":"count.lines"}}}
    """;

    private const string OnPrompts = """
    {"id":"on-prompts","parameters":{"promptSet":{"type":"string"},"verifier":{"type":"string","default":""}},
     "triggers":[{"event":"PromptsArrived","parameters":{"promptSet":"dataset","verifier":"verifier"}}],
     "activities":[{"id":"count","type":"CountLines","inputs":{"file":{"param":"promptSet"}}}],
     "outputs":{"lines":{"from":"count.lines"}}}
    """;

    private const string Unbound = """{"id":"other","activities":[{"id":"a","type":"Add","inputs":{"x":1}}]}""";

    /// <summary>The engine test host with the application's trigger and a validator that needs no model.</summary>
    private static Task<EngineHost> StartAsync(TestHome home) =>
        EngineHost.StartAsync(home, build: o => PostTrainHostFactory.Build(o with
        {
            ConfigureServices = s => s.AddSingleton<IPreferenceDataValidator, JsonlPreferenceValidator>(),
        }));

    private static async Task<T> PublishAndAwait<T>(EngineHost host, object message) where T : class
    {
        var bus = host.Host.Services.GetRequiredService<IBus>();
        var tcs = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        var handle = bus.ConnectReceiveEndpoint($"test-{Guid.NewGuid():N}", e => e.Handler<T>(ctx => { tcs.TrySetResult(ctx.Message); return Task.CompletedTask; }));
        await handle.Ready;
        await bus.Publish(message);
        try { return await tcs.Task.WaitAsync(TimeSpan.FromSeconds(15)); }
        finally { await handle.StopAsync(); }
    }

    [Fact]
    public async Task PreferenceDataArrived_GoodBatch_StoresItAndStartsBoundWorkflow()
    {
        using var home = new TestHome();
        home.WriteWorkflow("on-prefs", OnPreferences);
        home.WriteWorkflow("other", Unbound);
        await using var host = await StartAsync(home);
        var jsonl = """
        {"prompt":"2+2?","chosen":"4","rejected":"5"}
        {"prompt":"3+3?","chosen":"6","rejected":"7"}
        """;
        var accepted = await PublishAndAwait<PreferenceDataAccepted>(host, new PreferenceDataArrived { BatchId = Guid.NewGuid(), InlineJsonl = jsonl, Source = "test" });
        Assert.Equal(2, accepted.Pairs);
        var runId = Assert.Single(accepted.Runs);
        var run = await host.Engine.WaitForRunAsync(runId).WaitAsync(TimeSpan.FromSeconds(15));
        Assert.Equal(RunState.Succeeded, run.State);
        Assert.Equal("on-prefs", run.WorkflowId);
        Assert.Contains("\"lines\":2", run.OutputsJson);
        var dataset = Assert.Single(host.Engine.Datasets());
        Assert.Equal(accepted.Dataset, dataset.Artifact);
        Assert.Equal(2, dataset.Records);
        Assert.Single(host.Engine.Runs());
    }

    [Fact]
    public async Task PreferenceDataArrived_BadBatch_StartsNothingStoresNothing()
    {
        using var home = new TestHome();
        home.WriteWorkflow("on-prefs", OnPreferences);
        await using var host = await StartAsync(home);
        var jsonl = """
        {"prompt":"2+2?","chosen":"4","rejected":"5"}
        {"prompt":"3+3?","chosen":"6"}
        """;
        var rejected = await PublishAndAwait<PreferenceDataRejected>(host, new PreferenceDataArrived { BatchId = Guid.NewGuid(), InlineJsonl = jsonl });
        Assert.Contains(rejected.Errors, e => e.Contains(":2: missing string field 'rejected'"));
        Assert.Empty(host.Engine.Runs());
        Assert.Empty(host.Engine.Datasets());
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(home.Root, "artifacts", "objects")));
    }

    [Fact]
    public async Task PreferenceDataArrived_MissingFile_RejectedWithPath()
    {
        using var home = new TestHome();
        home.WriteWorkflow("on-prefs", OnPreferences);
        await using var host = await StartAsync(home);
        var rejected = await PublishAndAwait<PreferenceDataRejected>(host, new PreferenceDataArrived { BatchId = Guid.NewGuid(), FilePath = "/nope/prefs.jsonl" });
        Assert.Contains(rejected.Errors, e => e.Contains("/nope/prefs.jsonl: file not found"));
        Assert.Empty(host.Engine.Runs());
    }

    [Fact]
    public async Task PromptsArrived_GoodFile_StoresPromptsDatasetAndStartsBoundWorkflowOnIt()
    {
        using var home = new TestHome();
        home.WriteWorkflow("on-prompts", OnPrompts);
        home.WriteWorkflow("on-prefs", OnPreferences);
        await using var host = await StartAsync(home);
        var file = Path.Combine(home.Root, "gsm8k.jsonl");
        await File.WriteAllTextAsync(file, "{\"question\": \"2+2?\", \"answer\": \"2+2=4\\n#### 4\"}\n{\"question\": \"3+3?\", \"answer\": \"#### 6\"}\n");
        var accepted = await PublishAndAwait<PromptsAccepted>(host, new PromptsArrived { BatchId = Guid.NewGuid(), FilePath = file, Verifier = "numeric" });
        Assert.Equal(2, accepted.Prompts);
        var runId = Assert.Single(accepted.Runs);
        var run = await host.Engine.WaitForRunAsync(runId).WaitAsync(TimeSpan.FromSeconds(15));
        Assert.Equal(RunState.Succeeded, run.State);
        Assert.Equal("on-prompts", run.WorkflowId);
        Assert.Contains("\"lines\":2", run.OutputsJson);
        Assert.Contains("numeric", run.ParametersJson);
        var dataset = Assert.Single(host.Engine.Datasets());
        Assert.Equal(("prompts", accepted.Dataset), (dataset.Kind, dataset.Artifact));
    }

    [Fact]
    public async Task PromptsArrived_BrokenLine_RejectedWithFileLineStartsNothing()
    {
        using var home = new TestHome();
        home.WriteWorkflow("on-prompts", OnPrompts);
        await using var host = await StartAsync(home);
        var file = Path.Combine(home.Root, "prompts.jsonl");
        await File.WriteAllTextAsync(file, "{\"prompt\": \"ok\"}\n{\"prompt\": 5}\n");
        var rejected = await PublishAndAwait<PromptsRejected>(host, new PromptsArrived { BatchId = Guid.NewGuid(), FilePath = file });
        Assert.Contains($"{file}:2: prompt: expected a string, found number", rejected.Errors);
        Assert.Empty(host.Engine.Runs());
        Assert.Empty(host.Engine.Datasets());
    }
}

public sealed class PreferenceImporterValidatorTests
{
    [Fact]
    public void Validate_BadLine_ReportsSourceAndLine_GoodBatchCountsPairs()
    {
        var v = new Triggers.PreferenceImporterValidator();
        var good = v.Validate("{\"prompt\":\"2+2?\",\"chosen\":\"4\",\"rejected\":\"5\"}\n{\"prompt\":\"3+3?\",\"chosen\":\"6\",\"rejected\":\"7\"}\n", "batch");
        Assert.True(good.IsValid, string.Join("; ", good.Errors));
        Assert.Equal(2, good.Pairs);
        var bad = v.Validate("{\"prompt\":\"2+2?\",\"chosen\":\"4\",\"rejected\":\"5\"}\nnot json\n", "batch");
        Assert.False(bad.IsValid);
        Assert.Contains(bad.Errors, e => e.StartsWith("batch:2:", StringComparison.Ordinal));
    }
}
