using PostTrain.Core.Processes;

namespace PostTrain.Core.Files;

/// <summary>
/// Temp-then-rename writes, so a crash or a full disk never leaves a half-written file under the real name.
/// </summary>
public static class AtomicFile
{
    /// <summary>Writes through <paramref name="write"/> into a sibling temp file, flushes it to disk, then renames it over <paramref name="path"/>.</summary>
    public static void Write(string path, Action<Stream> write)
    {
        var full = Path.GetFullPath(path);
        var dir = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(dir);
        var tmp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(tmp, full, overwrite: true);
        }
        catch
        {
            TryDelete(tmp);
            throw;
        }
    }

    public static void WriteAllText(string path, string text) =>
        Write(path, s => { using var w = new StreamWriter(s, new System.Text.UTF8Encoding(false), leaveOpen: true); w.Write(text); });

    public static void WriteAllBytes(string path, ReadOnlySpan<byte> bytes)
    {
        var copy = bytes.ToArray();
        Write(path, s => s.Write(copy));
    }

    /// <summary>
    /// Builds a whole directory under a temp name and renames it into place, so readers see all of it or none.
    /// An existing directory at <paramref name="path"/> is replaced.
    /// </summary>
    public static void WriteDirectory(string path, Action<string> build)
    {
        var full = Path.GetFullPath(path).TrimEnd(Path.DirectorySeparatorChar);
        var parent = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(parent);
        var tmp = Path.Combine(parent, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        Directory.CreateDirectory(tmp);
        try
        {
            build(tmp);
            if (Directory.Exists(full))
            {
                var old = full + $".old.{Guid.NewGuid():N}";
                Directory.Move(full, old);
                Directory.Move(tmp, full);
                Directory.Delete(old, recursive: true);
            }
            else
            {
                Directory.Move(tmp, full);
            }
        }
        catch
        {
            if (Directory.Exists(tmp)) Directory.Delete(tmp, recursive: true);
            throw;
        }
    }

    /// <summary>
    /// Deletes the temp files and directories that writers killed mid-write (SIGKILL, OOM, power cut) left under
    /// <paramref name="root"/>: names <c>.NAME.PID.GUID.tmp</c> whose process no longer runs here and that nobody
    /// touched for <paramref name="minimumAge"/> (a home shared over a network filesystem may hold another machine's
    /// live temp with a pid that means nothing here). Directories for which <paramref name="skip"/> is true are not
    /// entered. Returns how many entries were removed.
    /// </summary>
    public static int SweepOrphans(string root, TimeSpan minimumAge, Func<string, bool>? skip = null)
    {
        if (!Directory.Exists(root)) return 0;
        var swept = 0;
        var cutoff = DateTime.UtcNow - minimumAge;
        var pending = new Stack<string>([root]);
        while (pending.Count > 0)
        {
            var dir = pending.Pop();
            IEnumerable<string> entries;
            try { entries = Directory.EnumerateFileSystemEntries(dir).ToList(); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { continue; }
            foreach (var entry in entries)
            {
                var isDir = Directory.Exists(entry);
                if (IsOrphan(Path.GetFileName(entry)) && (isDir ? Directory.GetLastWriteTimeUtc(entry) : File.GetLastWriteTimeUtc(entry)) < cutoff)
                {
                    try
                    {
                        if (isDir) Directory.Delete(entry, recursive: true);
                        else File.Delete(entry);
                        swept++;
                    }
                    catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
                }
                else if (isDir && skip?.Invoke(entry) != true) pending.Push(entry);
            }
        }
        return swept;
    }

    /// <summary>A temp name this class made (<c>.NAME.PID.GUID.tmp</c>) whose process is not running.</summary>
    private static bool IsOrphan(string name)
    {
        if (!name.StartsWith('.') || !name.EndsWith(".tmp", StringComparison.Ordinal)) return false;
        var parts = name[..^4].Split('.');
        return parts.Length >= 4 && parts[^1].Length == 32 && Guid.TryParseExact(parts[^1], "N", out _)
            && int.TryParse(parts[^2], out var pid) && !LocalProcess.IsRunning(pid);
    }


    private static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
