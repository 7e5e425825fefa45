using LiteDB;

namespace PostTrain.Engine.Store;

/// <summary>
/// The LiteDB database of a home. Opening it requires the home's <see cref="HomeLock"/>, so only one process
/// writes the file. Callers group the writes of one transition in <see cref="InTransaction"/>; LiteDB transactions
/// are bound to the calling thread, so the body must be synchronous.
/// </summary>
public sealed class WorkflowStore : IDisposable
{
    private readonly LiteDatabase _db;
    private readonly HomeLock _ownership;

    /// <summary>
    /// Opens the home's database; a truncated or corrupt file is refused with <see cref="DamagedDatabaseException"/>
    /// (path and recovery hint), never re-initialised or written.
    /// </summary>
    public WorkflowStore(PostTrainHome home, HomeLock ownership)
    {
        ArgumentNullException.ThrowIfNull(ownership);
        Home = home;
        _ownership = ownership;
        if (DatabaseCheck.Problem(home.DatabasePath) is { } problem) throw new DamagedDatabaseException(home, problem);
        try
        {
            _db = new LiteDatabase(new ConnectionString { Filename = home.DatabasePath, Connection = ConnectionType.Direct });
            Steps.EnsureIndex(s => s.RunId);
            Metrics.EnsureIndex(m => m.RunId);
            Runs.EnsureIndex(r => r.WorkflowId);
            Rounds.EnsureIndex(r => r.RunId);
        }
        catch (LiteException e)
        {
            _db?.Dispose();
            throw new DamagedDatabaseException(home, e.Message, e);
        }
    }

    public PostTrainHome Home { get; }

    public ILiteCollection<RunRecord> Runs => _db.GetCollection<RunRecord>("runs");
    public ILiteCollection<StepRecord> Steps => _db.GetCollection<StepRecord>("steps");
    public ILiteCollection<DefinitionRecord> Definitions => _db.GetCollection<DefinitionRecord>("definitions");
    public ILiteCollection<MetricRecord> Metrics => _db.GetCollection<MetricRecord>("metrics");
    public ILiteCollection<CheckpointRecord> Checkpoints => _db.GetCollection<CheckpointRecord>("checkpoints");
    public ILiteCollection<ArtifactRecord> Artifacts => _db.GetCollection<ArtifactRecord>("artifacts");
    public ILiteCollection<DatasetRecord> Datasets => _db.GetCollection<DatasetRecord>("datasets");
    public ILiteCollection<RoundRecord> Rounds => _db.GetCollection<RoundRecord>("rounds");
    public ILiteCollection<StepCacheEntry> StepCache => _db.GetCollection<StepCacheEntry>("stepcache");

    /// <summary>Runs <paramref name="body"/> as one transaction: all its writes land, or none.</summary>
    /// <remarks>
    /// The home's lock is checked first: if <c>posttrain.lock</c> was deleted or replaced under this process, another
    /// one may own the file now, and the write is refused with <see cref="HomeLockedException"/> instead of lost.
    /// </remarks>
    public T InTransaction<T>(Func<T> body)
    {
        _ownership.EnsureHeld();
        if (!_db.BeginTrans()) return body(); // already inside one on this thread
        try
        {
            var result = body();
            _db.Commit();
            return result;
        }
        catch
        {
            _db.Rollback();
            throw;
        }
    }

    public void InTransaction(Action body) => InTransaction(() => { body(); return 0; });

    public List<StepRecord> StepsOf(Guid runId) => Steps.Find(s => s.RunId == runId).ToList();

    public void Dispose() => _db.Dispose();
}
