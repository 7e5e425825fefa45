using System.Text.Json;
using PostTrain.Engine.Store;
using PostTrain.Engine.Tests.Support;
using PostTrain.Pretrain.Scaling;
using PostTrain.Workflows.Activities.Stages;
using PostTrain.Workflows.Hosting;
using PostTrain.Workflows.Reports;

namespace PostTrain.Workflows.Tests.Pretraining;

public sealed class ScalingLawWorkflowTests
{
    private static string RepoFile(string relative)
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "PostTrain.sln"))) return Path.Combine(d.FullName, relative);
        throw new DirectoryNotFoundException("PostTrain.sln not found above " + AppContext.BaseDirectory);
    }

    [Fact]
    public async Task ScalingLawWorkflow_TinyPreset_RunsGridFitTargetAndReport()
    {
        using var home = new TestHome();
        Directory.CreateDirectory(Path.Combine(home.Workflows, "presets"));
        File.Copy(RepoFile("workflows/presets/tiny.json"), Path.Combine(home.Workflows, "presets", "tiny.json"));
        await using var host = await EngineHost.StartAsync(home, build: PostTrainHostFactory.Build);

        var id = await host.StartRunAsync(home, File.ReadAllText(RepoFile("workflows/scaling-law.json")), new() { ["preset"] = "tiny" });
        var run = await host.Engine.WaitForRunAsync(id).WaitAsync(TimeSpan.FromMinutes(15));

        Assert.True(run.State == RunState.Succeeded, $"run {run.State}: {run.Error}; steps {string.Join(", ", run.Steps.Select(s => $"{s.Path}={s.State}"))}");
        Assert.Equal(6, run.Steps.Count(s => s.Path.StartsWith("grid[", StringComparison.Ordinal)));
        using var outputs = JsonDocument.Parse(run.OutputsJson!);
        var predicted = outputs.RootElement.GetProperty("predictedLoss").GetDouble();
        var actual = outputs.RootElement.GetProperty("actualLoss").GetDouble();
        Assert.Equal((predicted - actual) / actual, outputs.RootElement.GetProperty("relativeError").GetDouble(), 9);
        var artifacts = new ArtifactStore(home.Root);
        var report = artifacts.PathOf(ArtifactRef.Parse(outputs.RootElement.GetProperty("report").GetString()!));
        var markdown = File.ReadAllText(Path.Combine(report, ScalingLawReportWriter.MarkdownFile));
        Assert.Contains("prediction error", markdown, StringComparison.Ordinal);
        Assert.Equal(1 + 6 + 1, markdown.Split('\n').Count(l => l.StartsWith("| ", StringComparison.Ordinal))); // header, the grid, the larger run
        foreach (var png in new[] { ScalingLawReportWriter.TokensChart, ScalingLawReportWriter.ParametersChart })
            Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], File.ReadAllBytes(Path.Combine(report, png)).Take(4).ToArray());
        Assert.True(File.Exists(Path.Combine(new PostTrainHome(home.Root).RunsDirectory, id.ToString("D"), "scaling-law", ScalingLawReportWriter.MarkdownFile)));
    }
}
