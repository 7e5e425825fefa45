using LiteDB;

namespace PostTrain.Engine.Store;

/// <summary>
/// <c>posttrain doctor --repair</c>: sets a damaged <c>posttrain.db</c> aside and rebuilds the run history from the
/// run snapshots (<c>HOME/runs/*.json</c>, written atomically on every change). Runs, their steps, states, errors and
/// outputs come back, and definitions whose source file still reads; metrics, checkpoint lineage and datasets are
/// not in the snapshots. A run that was still going is recorded as failed, so <c>resume</c> can continue it (its
/// finished steps keep their outputs).
/// </summary>
public static class HistoryRebuild
{
    /// <summary>What a repair did.</summary>
    public sealed record Result(string? SetAside, int Runs, int Steps, int Definitions);

    /// <summary>Repairs the home; the caller holds its <see cref="HomeLock"/>. Does nothing to a sound database but report it.</summary>
    public static Result Repair(PostTrainHome home, HomeLock ownership)
    {
        string? aside = null;
        if (DatabaseCheck.Problem(home.DatabasePath) is not null || Unreadable(home))
        {
            aside = $"{home.DatabasePath}.damaged-{DateTime.UtcNow:yyyyMMddHHmmss}";
            File.Move(home.DatabasePath, aside);
            var log = Path.Combine(home.Root, "posttrain-log.db");
            if (File.Exists(log)) File.Move(log, aside + "-log");
        }
        else return new Result(null, 0, 0, 0);
        using var store = new WorkflowStore(home, ownership);
        var (runs, steps, definitions) = (0, 0, 0);
        store.InTransaction(() =>
        {
            foreach (var snap in SnapshotReader.List(home).OrderBy(s => s.CreatedAt))
            {
                var definition = Definition(snap);
                if (definition is not null && store.Definitions.FindById(definition.Id) is null) { store.Definitions.Insert(definition); definitions++; }
                var interrupted = snap.State is RunState.Running or RunState.Queued;
                store.Runs.Upsert(new RunRecord
                {
                    Id = snap.Id,
                    WorkflowId = snap.WorkflowId,
                    WorkflowVersion = snap.WorkflowVersion,
                    DefinitionHash = definition?.Id ?? "",
                    DefinitionSource = snap.Source,
                    ParametersJson = snap.ParametersJson,
                    OutputsJson = snap.OutputsJson,
                    Seed = snap.Seed,
                    Trigger = snap.Trigger,
                    State = interrupted ? RunState.Failed : snap.State,
                    Error = interrupted ? "interrupted: the database was rebuilt from this run's snapshot by 'posttrain doctor --repair'; resume it to continue" : snap.Error,
                    CreatedAt = snap.CreatedAt,
                    StartedAt = snap.StartedAt,
                    FinishedAt = interrupted ? snap.UpdatedAt : snap.FinishedAt,
                });
                runs++;
                foreach (var s in snap.Steps)
                {
                    store.Steps.Upsert(new StepRecord
                    {
                        Id = StepRecord.MakeId(snap.Id, s.Path),
                        RunId = snap.Id,
                        Path = s.Path,
                        NodeId = s.Path[(s.Path.LastIndexOf('/') + 1)..],
                        ActivityType = s.ActivityType,
                        Pool = s.Pool,
                        State = s.State == StepState.Done || !interrupted ? s.State : StepState.Cancelled,
                        Attempt = s.Attempt,
                        Failures = s.Failures,
                        FromCache = s.FromCache,
                        Error = s.Error,
                        OutputsJson = s.OutputsJson,
                        CreatedAt = s.StartedAt ?? snap.CreatedAt,
                        StartedAt = s.StartedAt,
                        FinishedAt = s.FinishedAt,
                    });
                    steps++;
                }
            }
        });
        return new Result(aside, runs, steps, definitions);
    }

    /// <summary>A file whose pages look whole can still fail to open; LiteDB's own error is the verdict then.</summary>
    private static bool Unreadable(PostTrainHome home)
    {
        if (!File.Exists(home.DatabasePath)) return false;
        try
        {
            using var db = new LiteDatabase(new ConnectionString { Filename = home.DatabasePath, Connection = ConnectionType.Direct, ReadOnly = true });
            foreach (var name in db.GetCollectionNames()) _ = db.GetCollection(name).Count();
            return false;
        }
        catch (LiteException) { return true; }
    }

    /// <summary>The run's definition, if its source file still parses to the same workflow.</summary>
    private static DefinitionRecord? Definition(RunSnapshot snap)
    {
        if (string.IsNullOrEmpty(snap.Source) || !File.Exists(snap.Source)) return null;
        var load = Definitions.WorkflowLoader.Parse(File.ReadAllText(snap.Source), snap.Source);
        if (load.Definition is not { } d || d.Id != snap.WorkflowId) return null;
        return new DefinitionRecord { Id = $"{d.Id}@{d.Version}#{d.ContentHash[..12]}", WorkflowId = d.Id, Version = d.Version, Hash = d.ContentHash, Source = d.Source, Json = d.Json, At = DateTime.UtcNow };
    }
}
