using Microsoft.Extensions.DependencyInjection;
using PostTrain.Engine.Store;
using PostTrain.Studio.Api;
using PostTrain.Workflows.Reports;

namespace PostTrain.Cli.Owner;

/// <summary>This process owns the home: the engine of its <see cref="LocalHost"/>, which also serves it to other commands.</summary>
/// <param name="stop">The command's Ctrl+C: before it stops, the owner serves the runs other commands gave it until they end, unless this fires.</param>
public sealed class LocalOwner(LocalHost host, CancellationToken stop = default) : IHomeOwner
{
    public LocalHost Host { get; } = host;

    public string? Remote => null;

    public async Task<Guid> StartRunAsync(string workflowPath, IReadOnlyDictionary<string, string> parameters, long seed, bool reportByCaller)
    {
        var id = Guid.NewGuid();
        if (reportByCaller) Host.Host.Services.GetRequiredService<RunReportService>().Claim(id);
        return await Host.Launcher.StartAsync(workflowPath, parameters, seed, runId: id);
    }

    public Task<RunSnapshot> SnapshotAsync(Guid runId) => Task.FromResult(Host.Engine.Snapshot(runId));

    public Task<IReadOnlyList<RunSnapshot>> SnapshotsAsync() =>
        Task.FromResult<IReadOnlyList<RunSnapshot>>([.. Host.Engine.Runs().Select(r => Host.Engine.Snapshot(r.Id))]);

    public Task<IReadOnlyList<RoundRecord>> RoundsAsync(Guid runId) => Task.FromResult(Host.Engine.Rounds(runId));

    public Task<RunRecords> RecordsAsync(Guid runId)
    {
        var engine = Host.Engine;
        var run = engine.Runs().FirstOrDefault(r => r.Id == runId) ?? throw new KeyNotFoundException($"no run {runId}");
        return Task.FromResult(new RunRecords(run, engine.Steps(runId), engine.Metrics(runId), engine.Rounds(runId)));
    }

    public Task<IReadOnlyList<DatasetRecord>> DatasetsAsync() => Task.FromResult(Host.Engine.Datasets());

    public Task RecordDatasetAsync(DatasetRecord dataset)
    {
        Host.Engine.RecordDataset(dataset);
        return Task.CompletedTask;
    }

    public Task ResumeAsync(Guid runId) => Host.Engine.ResumeAsync(runId);

    public Task<bool> CancelAsync(Guid runId, string reason) => Host.Engine.CancelAsync(runId, reason);

    public Task<bool> InterruptAsync(Guid runId) => Host.Engine.InterruptAsync(runId);

    public async ValueTask DisposeAsync()
    {
        await Host.ServeRemainingAsync(stop);
        await Host.DisposeAsync();
    }
}
