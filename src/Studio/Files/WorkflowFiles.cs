using System.Security.Cryptography;
using System.Text;
using PostTrain.Model.Checkpoints;

namespace PostTrain.Studio.Files;

/// <summary>
/// The workflow directory as the studio edits it: names are checked (<see cref="WorkflowName"/>) and resolved inside
/// the directory, every write is temp-then-rename, and a write happens only if the caller's ETag still names the file
/// on disk, so two editors never silently overwrite each other.
/// </summary>
public sealed class WorkflowFiles
{
    private readonly SemaphoreSlim _writes = new(1, 1);

    public WorkflowFiles(string directory)
    {
        Directory = System.IO.Path.GetFullPath(directory);
        System.IO.Directory.CreateDirectory(Directory);
    }

    public string Directory { get; }

    public IReadOnlyList<WorkflowFile> List() =>
        [.. System.IO.Directory.EnumerateFiles(Directory, "*.json")
            .Select(p => System.IO.Path.GetFileNameWithoutExtension(p))
            .Where(n => WorkflowName.Check(n) is null)
            .Order(StringComparer.Ordinal)
            .Select(Read).OfType<WorkflowFile>()];

    /// <summary>
    /// The file, or null if there is none. A symbolic link is not followed (it is not a workflow of this directory):
    /// it could point anywhere on the machine.
    /// </summary>
    public WorkflowFile? Read(string name)
    {
        var path = PathOf(name);
        try
        {
            if (new FileInfo(path).LinkTarget is not null) return null;
            var bytes = File.ReadAllBytes(path);
            return new WorkflowFile(name, path, Encoding.UTF8.GetString(bytes), ETagOf(bytes), File.GetLastWriteTimeUtc(path));
        }
        catch (FileNotFoundException) { return null; }
        catch (DirectoryNotFoundException) { return null; }
    }

    /// <summary>
    /// Writes <paramref name="text"/> when <paramref name="ifMatch"/> names the current file, or, with
    /// <paramref name="createOnly"/>, when there is no file yet. Throws <see cref="WorkflowConflictException"/> otherwise.
    /// </summary>
    public async Task<WorkflowFile> WriteAsync(string name, string text, string? ifMatch, bool createOnly)
    {
        var path = PathOf(name);
        await _writes.WaitAsync().ConfigureAwait(false);
        try
        {
            CheckPrecondition(name, ifMatch, createOnly);
            AtomicFile.WriteAllText(path, text);
            return Read(name)!;
        }
        finally
        {
            _writes.Release();
        }
    }

    /// <summary>Moves a file to a new name (the caller rewrites its id); the target must not exist.</summary>
    public async Task<WorkflowFile> RenameAsync(string name, string to, string newText, string? ifMatch)
    {
        var from = PathOf(name);
        var target = PathOf(to);
        await _writes.WaitAsync().ConfigureAwait(false);
        try
        {
            CheckPrecondition(name, ifMatch, createOnly: false);
            if (File.Exists(target)) throw new WorkflowConflictException($"workflows/{to}.json exists already");
            AtomicFile.WriteAllText(target, newText);
            File.Delete(from);
            return Read(to)!;
        }
        finally
        {
            _writes.Release();
        }
    }

    public async Task DeleteAsync(string name, string? ifMatch)
    {
        await _writes.WaitAsync().ConfigureAwait(false);
        try
        {
            CheckPrecondition(name, ifMatch, createOnly: false);
            File.Delete(PathOf(name));
        }
        finally
        {
            _writes.Release();
        }
    }

    /// <summary>The file's path, only for a valid name and only inside the directory.</summary>
    public string PathOf(string name)
    {
        if (WorkflowName.Check(name) is { } error) throw new ArgumentException(error, nameof(name));
        var path = System.IO.Path.GetFullPath(System.IO.Path.Combine(Directory, name + ".json"));
        if (!path.StartsWith(Directory + System.IO.Path.DirectorySeparatorChar, StringComparison.Ordinal))
            throw new ArgumentException($"workflow name '{name}' resolves outside {Directory}", nameof(name));
        return path;
    }

    public static string ETagOf(byte[] bytes) => $"\"{Convert.ToHexStringLower(SHA256.HashData(bytes))[..32]}\"";

    private void CheckPrecondition(string name, string? ifMatch, bool createOnly)
    {
        var current = Read(name);
        if (createOnly)
        {
            if (current is not null) throw new WorkflowConflictException($"workflows/{name}.json exists already (ETag {current.ETag}); open it and save with If-Match");
            return;
        }
        if (current is null) throw new FileNotFoundException($"no workflow '{name}' in {Directory}");
        if (ifMatch is null) throw new WorkflowConflictException($"saving workflows/{name}.json needs If-Match with the ETag you loaded (current {current.ETag})");
        if (ifMatch != "*" && ifMatch != current.ETag)
            throw new WorkflowConflictException($"workflows/{name}.json changed since you loaded it: your ETag {ifMatch}, on disk {current.ETag}; reload it and apply your change again");
    }
}
