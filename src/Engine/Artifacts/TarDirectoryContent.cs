using System.Formats.Tar;
using System.Net;

namespace PostTrain.Engine.Artifacts;

/// <summary>A directory sent as a tar stream written straight into the request: one file at a time, never whole in memory.</summary>
internal sealed class TarDirectoryContent(string directory, ArtifactManifest manifest) : HttpContent
{
    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        await using var writer = new TarWriter(stream, TarEntryFormat.Pax, leaveOpen: true);
        foreach (var f in manifest.Files)
            await writer.WriteEntryAsync(Path.Combine(directory, f.Path), f.Path, cancellationToken).ConfigureAwait(false);
    }

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override bool TryComputeLength(out long length)
    {
        length = 0;
        return false;
    }
}
