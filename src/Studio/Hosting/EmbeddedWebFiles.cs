using System.Reflection;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Primitives;

namespace PostTrain.Studio.Hosting;

/// <summary>The built front end, embedded in this assembly as <c>wwwroot/...</c> resources by the csproj.</summary>
public sealed class EmbeddedWebFiles : IFileProvider
{
    private readonly Assembly _assembly = typeof(EmbeddedWebFiles).Assembly;
    private readonly HashSet<string> _names;
    private readonly DateTimeOffset _built;

    public EmbeddedWebFiles()
    {
        _names = [.. _assembly.GetManifestResourceNames().Where(n => n.StartsWith("wwwroot/", StringComparison.Ordinal))];
        _built = File.GetLastWriteTimeUtc(_assembly.Location);
    }

    public bool HasIndex => _names.Contains("wwwroot/index.html");

    public IFileInfo GetFileInfo(string subpath)
    {
        var name = "wwwroot/" + subpath.TrimStart('/');
        return _names.Contains(name) ? new ResourceFile(_assembly, name, _built) : new NotFoundFileInfo(subpath);
    }

    public IDirectoryContents GetDirectoryContents(string subpath) => NotFoundDirectoryContents.Singleton;

    public IChangeToken Watch(string filter) => NullChangeToken.Singleton;

    private sealed class ResourceFile(Assembly assembly, string name, DateTimeOffset modified) : IFileInfo
    {
        public bool Exists => true;
        public long Length { get; } = Measure(assembly, name);
        public string? PhysicalPath => null;
        public string Name => System.IO.Path.GetFileName(name);
        public DateTimeOffset LastModified => modified;
        public bool IsDirectory => false;
        public Stream CreateReadStream() => assembly.GetManifestResourceStream(name)!;

        private static long Measure(Assembly a, string n)
        {
            using var s = a.GetManifestResourceStream(n)!;
            return s.Length;
        }
    }
}
