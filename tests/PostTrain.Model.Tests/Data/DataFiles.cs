using System.Text;

namespace PostTrain.Model.Tests.Data;

/// <summary>A temp directory per test that writes raw bytes, so tests can build deliberately broken files.</summary>
internal sealed class DataFiles : IDisposable
{
    public string Dir { get; } = Path.Combine(Path.GetTempPath(), "pt-data-" + Guid.NewGuid().ToString("N"));

    public DataFiles() => Directory.CreateDirectory(Dir);

    public string Write(string name, string text) => WriteBytes(name, Encoding.UTF8.GetBytes(text));

    public string WriteBytes(string name, byte[] bytes)
    {
        var path = Path.Combine(Dir, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    public string Path_(string name) => Path.Combine(Dir, name);

    public void Dispose() => Directory.Delete(Dir, recursive: true);
}
