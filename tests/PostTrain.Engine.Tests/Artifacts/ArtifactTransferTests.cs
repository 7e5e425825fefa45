using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging.Abstractions;
using PostTrain.Engine.Artifacts;
using PostTrain.Engine.Store;
using PostTrain.Engine.Tests.Support;

namespace PostTrain.Engine.Tests.Artifacts;

/// <summary>
/// The artifact transfer between two homes that share nothing: the owner's <see cref="ArtifactServer"/> on loopback and
/// a worker's <see cref="ArtifactClient"/>, through a relay that cuts streams mid-way.
/// </summary>
public sealed class ArtifactTransferTests : IAsyncLifetime
{
    private readonly TestHome _owner = new();
    private readonly TestHome _worker = new();
    private ArtifactServer _server = null!;
    private ArtifactStore _ownerStore = null!;
    private ArtifactStore _workerStore = null!;
    private static readonly ArtifactTransferRetry Fast = new() { FirstDelay = TimeSpan.FromMilliseconds(20), MaxDelay = TimeSpan.FromMilliseconds(100) };

    public async Task InitializeAsync()
    {
        _ownerStore = new ArtifactStore(_owner.Root);
        _workerStore = new ArtifactStore(_worker.Root);
        _server = new ArtifactServer(new PostTrainHome(_owner.Root), _ownerStore, new ArtifactServerOptions { AdvertisedHost = "127.0.0.1" }, NullLogger<ArtifactServer>.Instance);
        await _server.StartAsync(CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        await _server.StopAsync(CancellationToken.None);
        await _server.DisposeAsync();
        _owner.Dispose();
        _worker.Dispose();
    }

    private ArtifactClient Client(Uri? via = null, ArtifactTransferRetry? retry = null, string? token = null) =>
        new(_workerStore, via ?? _server.Url!, token ?? _server.Token, NullLogger.Instance, retry ?? Fast);

    private static byte[] Random(int size) => RandomNumberGenerator.GetBytes(size);

    private ArtifactRef Checkpoint() => _ownerStore.PutDirectory(dir =>
    {
        File.WriteAllText(Path.Combine(dir, "config.json"), "{\"hidden_size\": 64}");
        File.WriteAllBytes(Path.Combine(dir, "model.safetensors"), Random(3 << 20));
        Directory.CreateDirectory(Path.Combine(dir, "sub dir"));
        File.WriteAllBytes(Path.Combine(dir, "sub dir", "tokenizer.json"), Random(1000));
    });

    private string[] Objects(ArtifactStore store) => Directory.GetFileSystemEntries(Path.Combine(store.Root, "objects"));

    [Fact]
    public async Task Fetch_StreamCutMidway_CacheHoldsNoPartialArtifactAndRetryResumes()
    {
        var file = _ownerStore.PutBytes(Random(4 << 20));
        var port = _server.Url!.Port;

        // No retries: the cut fails the fetch, and nothing of it is in the worker's store.
        await using (var cutEveryTime = new CuttingProxy(port, cutAfter: 1 << 20, cuts: int.MaxValue))
        {
            var e = await Assert.ThrowsAnyAsync<IOException>(() => Client(cutEveryTime.Url, Fast with { MaxRetries = 0 }).FetchAsync(file, CancellationToken.None));
            Assert.False(_workerStore.Exists(file), e.Message);
            Assert.Empty(Objects(_workerStore));
        }

        // Two cut connections, then a clean one: the fetch resumes from where the stream stopped and ends whole.
        await using var cutTwice = new CuttingProxy(port, cutAfter: 1 << 20, cuts: 2);
        await Client(cutTwice.Url).FetchAsync(file, CancellationToken.None);
        Assert.True(_workerStore.Exists(file));
        Assert.Equal(await File.ReadAllBytesAsync(_ownerStore.GetPath(file)), await File.ReadAllBytesAsync(_workerStore.GetPath(file)));
        Assert.Contains(cutTwice.Requests, r => r.Contains("Range: bytes=", StringComparison.OrdinalIgnoreCase));
        Assert.Single(Objects(_workerStore));
    }

    [Fact]
    public async Task Fetch_DirectoryCutMidway_ResumedPerFileAndStoredUnderTheSameHash()
    {
        var checkpoint = Checkpoint();
        await using (var cutEveryTime = new CuttingProxy(_server.Url!.Port, cutAfter: 1 << 20, cuts: int.MaxValue))
        {
            await Assert.ThrowsAnyAsync<IOException>(() => Client(cutEveryTime.Url, Fast with { MaxRetries = 0 }).FetchAsync(checkpoint, CancellationToken.None));
            Assert.Empty(Objects(_workerStore));
        }
        await using var cutOnce = new CuttingProxy(_server.Url!.Port, cutAfter: 2 << 20, cuts: 1);
        await Client(cutOnce.Url).FetchAsync(checkpoint, CancellationToken.None);
        var local = _workerStore.GetPath(checkpoint);
        Assert.True(Directory.Exists(local));
        Assert.Equal(ArtifactManifest.Of(_ownerStore.GetPath(checkpoint)), ArtifactManifest.Of(local), new ManifestEquality());
        Assert.True(File.Exists(Path.Combine(local, "sub dir", "tokenizer.json")));
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(_workerStore.Root, "staging")));
    }

    [Fact]
    public async Task Push_FileAndDirectory_OwnerHoldsThemUnderTheirHashes()
    {
        var file = _workerStore.PutText("a step's output\n");
        var checkpoint = _workerStore.PutDirectory(dir => File.WriteAllBytes(Path.Combine(dir, "model.safetensors"), Random(2 << 20)));
        await Client().PushAllAsync([file, checkpoint], CancellationToken.None);
        Assert.True(_ownerStore.Exists(file));
        Assert.True(_ownerStore.IsDirectory(checkpoint));
        Assert.Equal(checkpoint.Hash, ArtifactManifest.Of(_ownerStore.GetPath(checkpoint)).Digest());
        await Client().PushAsync(checkpoint, CancellationToken.None); // held already: nothing sent, no error
    }

    [Fact]
    public async Task Put_ContentNotMatchingItsName_RefusedAndNotStored()
    {
        var claimed = new ArtifactRef(Convert.ToHexStringLower(SHA256.HashData("the real content"u8)));
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Put, new Uri(_server.Url!, ArtifactProtocol.PathOf(claimed.Hash))) { Content = new ByteArrayContent("something else"u8.ToArray()) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _server.Token);
        using var response = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.False(_ownerStore.Exists(claimed));
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(_ownerStore.Root, "staging")));
    }

    [Fact]
    public async Task Requests_WithoutTheToken_Refused()
    {
        var file = _ownerStore.PutText("secret\n");
        await Assert.ThrowsAsync<UnauthorizedAccessException>(() => Client(token: "not-the-token").FetchAsync(file, CancellationToken.None));
        using var http = new HttpClient();
        using var response = await http.GetAsync(new Uri(_server.Url!, ArtifactProtocol.PathOf(file.Hash)));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.False(_workerStore.Exists(file));
    }

    [Fact]
    public void Manifest_PathsLeavingTheDirectory_Refused()
    {
        foreach (var bad in new[] { "../x", "a/../../x", "/etc/passwd", "a//b", "a\\b", "./a", "" })
            Assert.Throws<InvalidDataException>(() => ArtifactManifest.CheckPath(bad));
        Assert.Equal("sub dir/tokenizer.json", ArtifactManifest.CheckPath("sub dir/tokenizer.json"));
    }

    private sealed class ManifestEquality : IEqualityComparer<ArtifactManifest>
    {
        public bool Equals(ArtifactManifest? x, ArtifactManifest? y) => x!.Files.SequenceEqual(y!.Files);
        public int GetHashCode(ArtifactManifest obj) => obj.Files.Count;
    }
}
