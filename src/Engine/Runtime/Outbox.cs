using PostTrain.Engine.Contracts;
using PostTrain.Engine.Store;

namespace PostTrain.Engine.Runtime;

/// <summary>What one transition has to tell the world once its LiteDB transaction has committed.</summary>
internal sealed class Outbox
{
    private readonly List<Guid> _touched = [];

    public List<ExecuteActivity> Sends { get; } = [];
    public List<object> Publishes { get; } = [];
    /// <summary>Snapshots for <c>RunChanged</c>, each with its place in commit order.</summary>
    public List<(RunSnapshot Snapshot, long Sequence)> Changed { get; } = [];
    public List<(TaskCompletionSource<RunSnapshot>, RunSnapshot)> Finished { get; } = [];

    /// <summary>Runs whose snapshot must be written after the commit, in the order they changed.</summary>
    public IReadOnlyList<Guid> Touched => _touched;

    public void Touch(Guid runId)
    {
        if (!_touched.Contains(runId)) _touched.Add(runId);
    }
}
