using System.Net;
using System.Net.Http.Headers;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.Retry;
using PostTrain.Engine.Store;

namespace PostTrain.Engine.Artifacts;

/// <summary>
/// A worker's side of the artifact transfer (<see cref="ArtifactProtocol"/>): fetches the owner's artifacts into the
/// local store and pushes its own outputs to the owner. A download goes to staging, resumes a cut stream from where it
/// stopped (HTTP ranges), checks every file's hash and is renamed into the store only when whole: the local store
/// never holds a partial or corrupt artifact. Transient failures (a cut connection, a refused connection, a server
/// error, a hash that does not match what arrived) are retried with exponential backoff by a Polly pipeline.
/// </summary>
public sealed class ArtifactClient
{
    // One connection pool for the process; streams are long, so no overall timeout, only on connecting.
    private static readonly HttpClient Http = new(new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(15), PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1) })
    {
        Timeout = Timeout.InfiniteTimeSpan,
    };

    private readonly ArtifactStore _store;
    private readonly Uri _server;
    private readonly AuthenticationHeaderValue _auth;
    private readonly ILogger _log;
    private readonly ResiliencePipeline _retry;

    public ArtifactClient(ArtifactStore store, Uri server, string token, ILogger log, ArtifactTransferRetry? retry = null)
    {
        _store = store;
        _server = server.AbsoluteUri.EndsWith('/') ? server : new Uri(server.AbsoluteUri + "/");
        _auth = new AuthenticationHeaderValue("Bearer", token);
        _log = log;
        var r = retry ?? new ArtifactTransferRetry();
        _retry = r.MaxRetries <= 0 ? ResiliencePipeline.Empty : new ResiliencePipelineBuilder().AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = new PredicateBuilder().Handle<Exception>(IsTransient),
            MaxRetryAttempts = r.MaxRetries,
            Delay = r.FirstDelay,
            MaxDelay = r.MaxDelay,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            OnRetry = a =>
            {
                _log.LogWarning("artifact transfer with {Server}: {Error}; retry {Attempt} in {Delay:F1} s", _server, a.Outcome.Exception?.Message, a.AttemptNumber + 1, a.RetryDelay.TotalSeconds);
                return ValueTask.CompletedTask;
            },
        }).Build();
    }

    /// <summary>What a retry can cure: I/O and HTTP failures, not a missing artifact or a refused token.</summary>
    private static bool IsTransient(Exception e) => e is HttpRequestException or IOException && e is not FileNotFoundException
        || e is TaskCanceledException { InnerException: TimeoutException };

    /// <summary>Makes every artifact available in the local store (those already there are not fetched).</summary>
    public async Task FetchAllAsync(IEnumerable<ArtifactRef> artifacts, CancellationToken ct)
    {
        foreach (var a in artifacts) await FetchAsync(a, ct).ConfigureAwait(false);
    }

    public async Task FetchAsync(ArtifactRef artifact, CancellationToken ct)
    {
        if (_store.Exists(artifact)) return;
        var started = DateTime.UtcNow;
        var (kind, size) = await _retry.ExecuteAsync(async t => await DescribeAsync(artifact, t).ConfigureAwait(false), ct).ConfigureAwait(false)
            ?? throw new FileNotFoundException($"artifact {artifact} is not held by {_server}");
        var staged = _store.NewStagingPath();
        try
        {
            if (kind == ArtifactProtocol.Directory)
            {
                var manifest = await _retry.ExecuteAsync(async t => await ManifestAsync(artifact, t).ConfigureAwait(false), ct).ConfigureAwait(false);
                Directory.CreateDirectory(staged);
                foreach (var f in manifest.Files)
                    await DownloadAsync(ArtifactProtocol.FileOf(artifact.Hash, f.Path), Path.Combine(staged, f.Path), f.Sha256, f.Size, ct).ConfigureAwait(false);
                size = manifest.Files.Sum(f => f.Size);
            }
            else await DownloadAsync(ArtifactProtocol.PathOf(artifact.Hash), staged, artifact.Hash, size, ct).ConfigureAwait(false);
            _store.Adopt(staged, artifact);
        }
        finally
        {
            ArtifactStore.Discard(staged);
        }
        _log.LogInformation("fetched {Artifact} ({Size:N0} bytes in {Seconds:F1} s) from {Server}", artifact, size, (DateTime.UtcNow - started).TotalSeconds, _server);
    }

    /// <summary>Uploads every artifact the owner does not hold yet.</summary>
    public async Task PushAllAsync(IEnumerable<ArtifactRef> artifacts, CancellationToken ct)
    {
        foreach (var a in artifacts) await PushAsync(a, ct).ConfigureAwait(false);
    }

    public async Task PushAsync(ArtifactRef artifact, CancellationToken ct)
    {
        var path = _store.GetPath(artifact);
        await _retry.ExecuteAsync(async t =>
        {
            if (await DescribeAsync(artifact, t).ConfigureAwait(false) is not null) return;
            var isDirectory = Directory.Exists(path);
            using var request = Request(HttpMethod.Put, ArtifactProtocol.PathOf(artifact.Hash));
            request.Content = isDirectory ? new TarDirectoryContent(path, ArtifactManifest.Of(path)) : new StreamContent(File.OpenRead(path), 1 << 20);
            request.Headers.Add(ArtifactProtocol.KindHeader, isDirectory ? ArtifactProtocol.Directory : ArtifactProtocol.File);
            using var response = await Http.SendAsync(request, t).ConfigureAwait(false);
            if (response.StatusCode == HttpStatusCode.UnprocessableEntity) // what arrived did not hash to its name: a damaged transfer
                throw new IOException($"{_server} refused {artifact}: {await response.Content.ReadAsStringAsync(t).ConfigureAwait(false)}");
            Check(response, artifact);
            _log.LogInformation("pushed {Artifact} to {Server}", artifact, _server);
        }, ct).ConfigureAwait(false);
    }

    private async Task<(string Kind, long? Size)?> DescribeAsync(ArtifactRef artifact, CancellationToken ct)
    {
        using var request = Request(HttpMethod.Head, ArtifactProtocol.PathOf(artifact.Hash));
        using var response = await Http.SendAsync(request, ct).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound) return null;
        Check(response, artifact);
        var kind = response.Headers.TryGetValues(ArtifactProtocol.KindHeader, out var k) ? k.First() : ArtifactProtocol.File;
        long? size = response.Headers.TryGetValues(ArtifactProtocol.SizeHeader, out var s) && long.TryParse(s.First(), out var n) ? n : null;
        return (kind, size);
    }

    private async Task<ArtifactManifest> ManifestAsync(ArtifactRef artifact, CancellationToken ct)
    {
        using var request = Request(HttpMethod.Get, ArtifactProtocol.PathOf(artifact.Hash));
        using var response = await Http.SendAsync(request, ct).ConfigureAwait(false);
        Check(response, artifact);
        var manifest = ArtifactManifest.Parse(await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false));
        if (manifest.Digest() != artifact.Hash) throw new IOException($"{_server} sent a manifest for {artifact} that hashes to sha256:{manifest.Digest()}");
        return manifest;
    }

    /// <summary>
    /// Streams one file to <paramref name="target"/>. A cut stream is resumed from the bytes already written (Range);
    /// a file whose hash is wrong once complete is deleted and fetched again from the start.
    /// </summary>
    private Task DownloadAsync(string relative, string target, string sha256, long? size, CancellationToken ct) =>
        _retry.ExecuteAsync(async t =>
        {
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            var have = File.Exists(target) ? new FileInfo(target).Length : 0;
            using var request = Request(HttpMethod.Get, relative);
            if (have > 0) request.Headers.Range = new RangeHeaderValue(have, null);
            using var response = await Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, t).ConfigureAwait(false);
            if (response.StatusCode != HttpStatusCode.RequestedRangeNotSatisfiable)
            {
                Check(response, relative);
                var resumed = response.StatusCode == HttpStatusCode.PartialContent;
                var total = resumed ? response.Content.Headers.ContentRange?.Length : response.Content.Headers.ContentLength;
                size ??= total;
                await using var file = new FileStream(target, resumed ? FileMode.Append : FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20, useAsync: true);
                await using var body = await response.Content.ReadAsStreamAsync(t).ConfigureAwait(false);
                await body.CopyToAsync(file, t).ConfigureAwait(false);
            }
            var length = new FileInfo(target).Length;
            if (size is { } expected && length < expected) throw new IOException($"{relative}: the stream ended at {length:N0} of {expected:N0} bytes");
            if (ArtifactStore.HashFile(target) != sha256)
            {
                File.Delete(target);
                throw new IOException($"{relative}: what arrived does not hash to sha256:{sha256}; fetching it again");
            }
        }, ct).AsTask();

    private HttpRequestMessage Request(HttpMethod method, string relative)
    {
        var request = new HttpRequestMessage(method, new Uri(_server, relative));
        request.Headers.Authorization = _auth;
        return request;
    }

    private void Check(HttpResponseMessage response, object what)
    {
        if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
            throw new UnauthorizedAccessException($"{_server} refused the artifact token for {what} ({(int)response.StatusCode})");
        if (response.StatusCode == HttpStatusCode.NotFound) throw new FileNotFoundException($"{what} is not held by {_server}");
        response.EnsureSuccessStatusCode();
    }
}
