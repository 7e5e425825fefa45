using System.Formats.Tar;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using PostTrain.Engine.Store;

namespace PostTrain.Engine.Artifacts;

/// <summary>
/// The owner of a home serves its artifact store over HTTP (<see cref="ArtifactProtocol"/>) on its own port, on every
/// interface, to workers whose homes share nothing with it. A token (<c>HOME/artifact-server.token</c>, made once,
/// owner-only) guards every request; the engine puts the address and token into each <c>ExecuteActivity</c>, so a
/// worker needs only the broker. Uploads are written to staging and kept only if they hash to the name they were
/// sent under: a cut or lying upload never becomes an artifact.
/// </summary>
public sealed class ArtifactServer(PostTrainHome home, ArtifactStore store, ArtifactServerOptions options, ILogger<ArtifactServer> log) : IHostedService, IAsyncDisposable
{
    private WebApplication? _app;
    private readonly byte[] _token = Encoding.UTF8.GetBytes(TokenOf(home));

    /// <summary>The address workers use, known once started.</summary>
    public Uri? Url { get; private set; }
    public string Token => Encoding.UTF8.GetString(_token);

    /// <summary>The home's transfer token, made on first use (readable by its owner only).</summary>
    public static string TokenOf(PostTrainHome home)
    {
        var path = Path.Combine(home.Root, "artifact-server.token");
        if (!File.Exists(path))
        {
            var token = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
            var tmp = $"{path}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
            var create = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows()) create.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            using (var f = new FileStream(tmp, create))
                f.Write(Encoding.ASCII.GetBytes(token));
            try { File.Move(tmp, path, overwrite: false); }
            catch (IOException) when (File.Exists(path)) { File.Delete(tmp); }
        }
        return File.ReadAllText(path).Trim();
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders(); // stdout belongs to the command's result (--json)
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.ListenAnyIP(options.Port);
            k.Limits.MaxRequestBodySize = null; // checkpoints are as large as they are
        });
        var app = builder.Build();
        app.Use(async (ctx, next) =>
        {
            var given = Encoding.UTF8.GetBytes(ctx.Request.Headers.Authorization.ToString());
            var expected = Encoding.UTF8.GetBytes("Bearer ").Concat(_token).ToArray();
            if (!CryptographicOperations.FixedTimeEquals(given, expected)) { ctx.Response.StatusCode = StatusCodes.Status401Unauthorized; return; }
            await next(ctx).ConfigureAwait(false);
        });
        app.MapMethods("/artifacts/{hash}", [HttpMethods.Head], (string hash, HttpResponse response) => Describe(hash, response));
        app.MapGet("/artifacts/{hash}", (string hash, HttpResponse response) => Get(hash, response));
        app.MapGet("/artifacts/{hash}/files/{**path}", (string hash, string path) => GetMember(hash, path));
        app.MapPut("/artifacts/{hash}", (string hash, HttpRequest request) => PutAsync(hash, request));
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        _app = app;
        var bound = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        Url = new Uri($"http://{options.AdvertisedHost ?? Dns.GetHostName()}:{bound.Port}/");
        log.LogInformation("artifacts of {Home} served at {Url}", home.Root, Url);
    }

    private IResult Describe(string hash, HttpResponse response)
    {
        if (Held(hash) is not { } artifact) return Results.NotFound();
        var path = store.PathOf(artifact);
        var isDirectory = Directory.Exists(path);
        response.Headers[ArtifactProtocol.KindHeader] = isDirectory ? ArtifactProtocol.Directory : ArtifactProtocol.File;
        if (!isDirectory) response.Headers[ArtifactProtocol.SizeHeader] = new FileInfo(path).Length.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return Results.Ok();
    }

    private IResult Get(string hash, HttpResponse response)
    {
        if (Held(hash) is not { } artifact) return Results.NotFound();
        var path = store.PathOf(artifact);
        if (!Directory.Exists(path)) return Results.File(path, "application/octet-stream", enableRangeProcessing: true);
        response.Headers[ArtifactProtocol.KindHeader] = ArtifactProtocol.Directory;
        return Results.Text(ManifestOf(artifact, path), "application/json");
    }

    private IResult GetMember(string hash, string path)
    {
        if (Held(hash) is not { } artifact || !Directory.Exists(store.PathOf(artifact))) return Results.NotFound();
        try { ArtifactManifest.CheckPath(path); }
        catch (InvalidDataException e) { return Results.BadRequest(e.Message); }
        var file = Path.Combine(store.PathOf(artifact), path);
        return File.Exists(file) ? Results.File(file, "application/octet-stream", enableRangeProcessing: true) : Results.NotFound();
    }

    private async Task<IResult> PutAsync(string hash, HttpRequest request)
    {
        ArtifactRef artifact;
        try { artifact = ArtifactRef.Parse(hash); }
        catch (FormatException e) { return Results.BadRequest(e.Message); }
        if (store.Exists(artifact)) return Results.Ok();
        var staged = store.NewStagingPath();
        try
        {
            if (request.Headers[ArtifactProtocol.KindHeader] == ArtifactProtocol.Directory) await ReceiveDirectoryAsync(request.Body, staged, request.HttpContext.RequestAborted).ConfigureAwait(false);
            else
            {
                await using var file = new FileStream(staged, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20, useAsync: true);
                await request.Body.CopyToAsync(file, request.HttpContext.RequestAborted).ConfigureAwait(false);
                await file.FlushAsync().ConfigureAwait(false);
            }
            store.Adopt(staged, artifact);
            log.LogInformation("received {Artifact}", artifact);
            return Results.Created();
        }
        catch (InvalidDataException e)
        {
            return Results.UnprocessableEntity(e.Message);
        }
        finally
        {
            ArtifactStore.Discard(staged);
        }
    }

    /// <summary>Unpacks a tar stream of regular files (and directories) into <paramref name="target"/>; anything else is refused.</summary>
    private static async Task ReceiveDirectoryAsync(Stream body, string target, CancellationToken ct)
    {
        Directory.CreateDirectory(target);
        await using var reader = new TarReader(body, leaveOpen: true);
        while (await reader.GetNextEntryAsync(copyData: false, ct).ConfigureAwait(false) is { } entry)
        {
            if (entry.EntryType is TarEntryType.Directory) continue;
            if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile))
                throw new InvalidDataException($"{entry.Name}: a directory artifact holds regular files only, not {entry.EntryType}");
            var path = Path.Combine(target, ArtifactManifest.CheckPath(entry.Name));
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            await using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20, useAsync: true);
            if (entry.DataStream is { } data) await data.CopyToAsync(file, ct).ConfigureAwait(false);
        }
    }

    private ArtifactRef? Held(string hash)
    {
        try
        {
            var artifact = ArtifactRef.Parse(hash);
            return store.Exists(artifact) ? artifact : null;
        }
        catch (FormatException) { return null; }
    }

    // Hashing a large checkpoint takes seconds; objects never change, so its manifest is written once beside them.
    private string ManifestOf(ArtifactRef artifact, string path)
    {
        var cached = Path.Combine(store.Root, "manifests", artifact.Hash + ".json");
        if (File.Exists(cached)) return File.ReadAllText(cached);
        var json = ArtifactManifest.Of(path).ToJson();
        Core.Files.AtomicFile.WriteAllText(cached, json);
        return json;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_app is not null) await _app.StopAsync(cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null) await _app.DisposeAsync().ConfigureAwait(false);
        _app = null;
    }
}
