using PostTrain.Engine.Store;

namespace PostTrain.Cli.Owner;

/// <summary>Runs as <c>runs</c> and <c>status</c> show them: live from the home's owner when one serves it, else the snapshot files it writes.</summary>
public static class RunList
{
    public static async Task<IReadOnlyList<RunSnapshot>> ListAsync(PostTrainHome home)
    {
        if (OwnerClient.Find(home) is not { } owner) return SnapshotReader.List(home);
        await using (owner)
        {
            try { return await owner.SnapshotsAsync(); }
            // The owner stopped between finding it and asking: its snapshot files are as fresh as it left them.
            catch (OwnerUnreachableException) { return SnapshotReader.List(home); }
        }
    }
}
