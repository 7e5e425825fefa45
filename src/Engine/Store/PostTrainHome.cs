using PostTrain.Core.Files;

namespace PostTrain.Engine.Store;

/// <summary>
/// The directory that holds one PostTrain installation's state: <c>posttrain.db</c> (LiteDB, one writer),
/// <c>artifacts/</c>, <c>runs/*.json</c> (snapshots readers use), <c>cache/</c> (step outputs by key) and <c>control/</c>.
/// Chosen by <c>--home</c>, else <c>POSTTRAIN_HOME</c>, else <c>./.posttrain</c>.
/// </summary>
public sealed class PostTrainHome
{
    public const string EnvironmentVariable = "POSTTRAIN_HOME";

    public PostTrainHome(string root)
    {
        Root = Path.GetFullPath(root);
        Directory.CreateDirectory(Root);
    }

    public static PostTrainHome Resolve(string? option) =>
        new(!string.IsNullOrWhiteSpace(option) ? option
            : Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } env ? env
            : Path.Combine(Environment.CurrentDirectory, ".posttrain"));

    public string Root { get; }
    public string DatabasePath => Path.Combine(Root, "posttrain.db");
    public string LockPath => Path.Combine(Root, "posttrain.lock");
    public string LockInfoPath => Path.Combine(Root, "posttrain.lock.json");
    public string RunsDirectory => Dir("runs");
    public string CacheDirectory => Dir("cache");
    public string ControlDirectory => Dir("control");

    public string IdPath => Path.Combine(Root, "posttrain.id");

    /// <summary>
    /// This home's id (<c>HOME/posttrain.id</c>, made on first use): the default deployment name on the bus, so
    /// homes sharing a broker stay apart. Two processes racing to make it agree: the first rename wins.
    /// </summary>
    public string Id
    {
        get
        {
            if (ReadId() is { } id) return id;
            var tmp = $"{IdPath}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
            File.WriteAllText(tmp, "h" + Guid.NewGuid().ToString("N")[..15] + "\n");
            try { File.Move(tmp, IdPath, overwrite: false); }
            catch (IOException) when (File.Exists(IdPath)) { File.Delete(tmp); }
            return ReadId() ?? throw new InvalidDataException($"{IdPath}: expected a home id (lowercase letters and digits); delete the file to make a new one");
        }
    }

    private string? ReadId()
    {
        if (!File.Exists(IdPath)) return null;
        var text = File.ReadAllText(IdPath).Trim();
        return text.Length is > 0 and <= 40 && text.All(c => c is >= 'a' and <= 'z' or >= '0' and <= '9') ? text : null;
    }

    /// <summary>
    /// Removes what writers killed mid-write left in this home (temp snapshots, cache entries, half-built checkpoint
    /// directories under <c>work/</c>), untouched for an hour and made by processes no longer running. Artifacts are
    /// not entered: complete objects are immutable and the staging area has its own sweep.
    /// </summary>
    public int SweepTemporaryFiles() =>
        AtomicFile.SweepOrphans(Root, TimeSpan.FromHours(1), dir => Path.GetFileName(dir) == "artifacts" && Path.GetDirectoryName(dir) == Root);

    public string SnapshotPath(Guid runId) => Path.Combine(RunsDirectory, $"{runId:D}.json");

    private string Dir(string name)
    {
        var d = Path.Combine(Root, name);
        Directory.CreateDirectory(d);
        return d;
    }
}
