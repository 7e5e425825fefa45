using System.Security.Cryptography;
using System.Text;
using PostTrain.Core.Files;
using PostTrain.Core.Processes;

namespace PostTrain.Engine.Store;

/// <summary>
/// Content-addressed files and directories under <c>HOME/artifacts/objects/&lt;hash&gt;</c>. Content is built under a
/// temp name, hashed, then renamed into place, so an artifact path exists only once it is complete. Writing the
/// same content twice yields the same reference and stores it once. Safe to use from several processes.
/// </summary>
public sealed class ArtifactStore
{
    private readonly string _objects;
    private readonly string _staging;

    public ArtifactStore(string home)
    {
        Root = Path.Combine(Path.GetFullPath(home), "artifacts");
        _objects = Path.Combine(Root, "objects");
        _staging = Path.Combine(Root, "staging");
        Directory.CreateDirectory(_objects);
        Directory.CreateDirectory(_staging);
        SweepStaging();
    }

    /// <summary>
    /// A process killed while storing (SIGKILL, power cut) leaves its half-written staging entry behind; nothing else
    /// would ever delete it. Removes the entries of this machine's processes that no longer run (entries are named
    /// <c>pid-guid-machine</c>; other machines sharing the home are left to sweep their own). Returns how many.
    /// </summary>
    public int SweepStaging()
    {
        var swept = 0;
        foreach (var entry in Directory.EnumerateFileSystemEntries(_staging))
        {
            var parts = Path.GetFileName(entry).Split('-', 3);
            if (parts.Length != 3 || parts[2] != Environment.MachineName || !int.TryParse(parts[0], out var pid) || LocalProcess.IsRunning(pid)) continue;
            try
            {
                if (Directory.Exists(entry)) Directory.Delete(entry, recursive: true);
                else File.Delete(entry);
                swept++;
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
        return swept;
    }


    private string StagingPath() => Path.Combine(_staging, $"{Environment.ProcessId}-{Guid.NewGuid():N}-{Environment.MachineName}");

    /// <summary>
    /// A fresh path in the staging area for content that arrives from elsewhere (a download, an upload): fill it, then
    /// <see cref="Adopt"/> it. A process killed meanwhile leaves it to <see cref="SweepStaging"/>, never in the objects.
    /// </summary>
    public string NewStagingPath() => StagingPath();

    /// <summary>
    /// Moves a staged file or directory into the objects if its content hashes to <paramref name="expected"/>; else
    /// deletes it and throws <see cref="InvalidDataException"/> with both hashes. Content already held is kept as it was.
    /// </summary>
    public ArtifactRef Adopt(string staged, ArtifactRef expected)
    {
        var isDirectory = Directory.Exists(staged);
        try
        {
            var actual = isDirectory ? HashDirectory(staged) : HashFile(staged);
            if (actual != expected.Hash)
                throw new InvalidDataException($"{staged}: content hashes to sha256:{actual}, expected {expected}");
            var target = PathOf(expected);
            if (!Exists(expected))
            {
                try
                {
                    if (isDirectory) Directory.Move(staged, target);
                    else File.Move(staged, target, overwrite: false);
                }
                catch (IOException) when (Exists(expected)) { } // another writer stored the same content first
            }
            return expected;
        }
        finally
        {
            Discard(staged);
        }
    }

    /// <summary>Deletes what is left of a staged file or directory (nothing, after a successful <see cref="Adopt"/>).</summary>
    public static void Discard(string staged)
    {
        if (Directory.Exists(staged)) Directory.Delete(staged, recursive: true);
        else if (File.Exists(staged)) File.Delete(staged);
    }

    /// <summary>True when the artifact is a directory (a checkpoint), false for a file; throws when it is not stored.</summary>
    public bool IsDirectory(ArtifactRef artifact) => Directory.Exists(GetPath(artifact));

    public string Root { get; }

    /// <summary>Stores the bytes written by <paramref name="write"/> as one file.</summary>
    public ArtifactRef PutFile(Action<Stream> write)
    {
        var tmp = StagingPath();
        try
        {
            using (var s = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write))
            {
                write(s);
                s.Flush(flushToDisk: true);
            }
            var hash = HashFile(tmp);
            var target = Path.Combine(_objects, hash);
            if (!File.Exists(target) && !Directory.Exists(target)) File.Move(tmp, target, overwrite: true);
            return new ArtifactRef(hash);
        }
        finally
        {
            if (File.Exists(tmp)) File.Delete(tmp);
        }
    }

    public ArtifactRef PutBytes(ReadOnlySpan<byte> bytes)
    {
        var copy = bytes.ToArray();
        return PutFile(s => s.Write(copy));
    }

    public ArtifactRef PutText(string text) => PutBytes(Encoding.UTF8.GetBytes(text));

    /// <summary>Copies an existing file in.</summary>
    public ArtifactRef ImportFile(string path) => PutFile(s => { using var src = File.OpenRead(path); src.CopyTo(s); });

    /// <summary>Stores a directory: <paramref name="build"/> fills an empty staging directory (e.g. a checkpoint).</summary>
    public ArtifactRef PutDirectory(Action<string> build)
    {
        var tmp = StagingPath();
        Directory.CreateDirectory(tmp);
        try
        {
            build(tmp);
            var hash = HashDirectory(tmp);
            var target = Path.Combine(_objects, hash);
            if (!Directory.Exists(target))
            {
                try { Directory.Move(tmp, target); }
                catch (IOException) when (Directory.Exists(target)) { } // another writer stored the same content first
            }
            return new ArtifactRef(hash);
        }
        finally
        {
            if (Directory.Exists(tmp)) Directory.Delete(tmp, recursive: true);
        }
    }

    public bool Exists(ArtifactRef artifact) => File.Exists(PathOf(artifact)) || Directory.Exists(PathOf(artifact));

    /// <summary>The file or directory of a stored artifact. Treat it as read-only.</summary>
    public string PathOf(ArtifactRef artifact) => Path.Combine(_objects, artifact.Hash);

    public string GetPath(ArtifactRef artifact) =>
        Exists(artifact) ? PathOf(artifact) : throw new FileNotFoundException($"artifact {artifact} is not in {_objects}");

    public string ReadText(ArtifactRef artifact) => File.ReadAllText(GetPath(artifact));

    /// <summary>Writes a small file outside the object store (cache entries, snapshots) with temp-then-rename.</summary>
    internal static void WriteAtomic(string path, string text) => AtomicFile.WriteAllText(path, text);

    internal static string HashFile(string path)
    {
        using var s = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(s));
    }

    // A directory's hash covers each file's relative path and content hash, in ordinal order (its manifest's digest).
    private static string HashDirectory(string dir) => Artifacts.ArtifactManifest.Of(dir).Digest();
}
