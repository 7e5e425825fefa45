using PostTrain.Engine.Store;
using PostTrain.Studio.Api;

namespace PostTrain.Cli.Owner;

/// <summary>
/// The engine that owns a home, as a command sees it: this process's own (<see cref="LocalOwner"/>) or the one a
/// studio, host or another command serves (<see cref="OwnerClient"/>). Commands are written once against this, so
/// their output and exit codes are the same either way. Unknown runs throw <see cref="KeyNotFoundException"/>; a
/// workflow that does not validate or bind throws <see cref="Engine.Runtime.WorkflowInvalidException"/>.
/// </summary>
public interface IHomeOwner : IAsyncDisposable
{
    /// <summary>Null for this process; "pid 123 (studio) on box" for another.</summary>
    string? Remote { get; }

    /// <param name="reportByCaller">The caller writes the run's report itself; the owner does not.</param>
    Task<Guid> StartRunAsync(string workflowPath, IReadOnlyDictionary<string, string> parameters, long seed, bool reportByCaller);

    Task<RunSnapshot> SnapshotAsync(Guid runId);

    /// <summary>Every run, newest first.</summary>
    Task<IReadOnlyList<RunSnapshot>> SnapshotsAsync();

    Task<IReadOnlyList<RoundRecord>> RoundsAsync(Guid runId);

    Task<RunRecords> RecordsAsync(Guid runId);

    Task<IReadOnlyList<DatasetRecord>> DatasetsAsync();

    /// <summary>Records a dataset whose bytes are complete in the home's artifact store.</summary>
    Task RecordDatasetAsync(DatasetRecord dataset);

    Task ResumeAsync(Guid runId);

    /// <summary>False if the run had finished.</summary>
    Task<bool> CancelAsync(Guid runId, string reason);

    /// <summary>Marks the run Interrupted (Ctrl+C); false if it was not running.</summary>
    Task<bool> InterruptAsync(Guid runId);
}
