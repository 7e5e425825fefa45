using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using PostTrain.Engine.Hosting;
using PostTrain.Engine.Runtime;
using PostTrain.Engine.Store;
using PostTrain.Studio.Api;

namespace PostTrain.Cli.Owner;

/// <summary>
/// Another process owns the home and serves its API (<c>HOME/owner.json</c>): a studio, <c>posttrain host</c>, or an
/// <c>iterate</c>/<c>run</c>/<c>resume</c> hosting its own engine. Every call carries the owner's token.
/// </summary>
public sealed class OwnerClient : IHomeOwner
{
    private readonly HttpClient _http;
    private readonly PostTrainHome _home;

    public OwnerClient(PostTrainHome home, OwnerFile.Info info)
    {
        _home = home;
        Info = info;
        _http = new HttpClient { BaseAddress = new Uri(info.Url.TrimEnd('/') + "/"), Timeout = TimeSpan.FromMinutes(2) };
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", info.Token);
    }

    public OwnerFile.Info Info { get; }

    public string? Remote => Info.Describe();

    /// <summary>The client of the process that serves <paramref name="home"/>, or null if none does.</summary>
    public static OwnerClient? Find(PostTrainHome home) => OwnerFile.Find(home) is { } info ? new OwnerClient(home, info) : null;

    public async Task<Guid> StartRunAsync(string workflowPath, IReadOnlyDictionary<string, string> parameters, long seed, bool reportByCaller)
    {
        using var response = await SendAsync(HttpMethod.Post, "api/owner/runs", new SubmitRunRequest(Path.GetFullPath(workflowPath), parameters, seed, reportByCaller));
        if (response.StatusCode == HttpStatusCode.UnprocessableEntity)
        {
            var error = await response.Content.ReadFromJsonAsync<ErrorResponse>(SnapshotReader.Json);
            throw new WorkflowInvalidException(workflowPath, [.. error?.Problems?.Select(p => p.Message) ?? [error?.Error ?? "rejected by the owner"]]);
        }
        return (await ReadAsync<StartedRun>(response)).Id;
    }

    public async Task<RunSnapshot> SnapshotAsync(Guid runId)
    {
        try { return await GetAsync<RunSnapshot>($"api/runs/{runId:D}/snapshot"); }
        catch (OwnerUnreachableException) when (SnapshotReader.Find(_home, runId.ToString("D")) is { State: not (RunState.Queued or RunState.Running) } ended)
        {
            // An owner that served a run for this command stops once the run has ended, possibly between two polls:
            // the run's snapshot under HOME/runs/ (written before the owner stopped) says how it ended.
            return ended;
        }
    }

    public async Task<IReadOnlyList<RunSnapshot>> SnapshotsAsync() => await GetAsync<List<RunSnapshot>>("api/runs/snapshots");

    public async Task<IReadOnlyList<RoundRecord>> RoundsAsync(Guid runId) => await GetAsync<List<RoundRecord>>($"api/runs/{runId:D}/rounds");

    public Task<RunRecords> RecordsAsync(Guid runId) => GetAsync<RunRecords>($"api/runs/{runId:D}/records");

    public async Task<IReadOnlyList<DatasetRecord>> DatasetsAsync() => await GetAsync<List<DatasetRecord>>("api/datasets");

    public async Task RecordDatasetAsync(DatasetRecord dataset)
    {
        using var response = await SendAsync(HttpMethod.Post, "api/datasets", dataset);
        await EnsureAsync(response);
    }

    public async Task ResumeAsync(Guid runId)
    {
        using var response = await SendAsync(HttpMethod.Post, $"api/runs/{runId:D}/resume", null);
        await EnsureAsync(response);
    }

    public async Task<bool> CancelAsync(Guid runId, string reason)
    {
        using var response = await SendAsync(HttpMethod.Post, $"api/runs/{runId:D}/cancel?reason={Uri.EscapeDataString(reason)}", null);
        if (response.StatusCode == HttpStatusCode.Conflict) return false;
        await EnsureAsync(response);
        return true;
    }

    public async Task<bool> InterruptAsync(Guid runId)
    {
        using var response = await SendAsync(HttpMethod.Post, $"api/runs/{runId:D}/interrupt", null);
        return (await ReadAsync<InterruptAnswer>(response)).Interrupted;
    }

    public ValueTask DisposeAsync()
    {
        _http.Dispose();
        return ValueTask.CompletedTask;
    }

    private async Task<T> GetAsync<T>(string path)
    {
        using var response = await SendAsync(HttpMethod.Get, path, null);
        return await ReadAsync<T>(response);
    }

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, object? body)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null) request.Content = JsonContent.Create(body, body.GetType(), options: SnapshotReader.Json);
        try { return await _http.SendAsync(request); }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            throw new OwnerUnreachableException($"{_home.Root} is owned by {Info.Describe()}, which stopped answering at {Info.Url} ({e.Message}); " +
                $"its runs keep their finished steps: start an owner again (posttrain host --home {_home.Root}) or resume a run (posttrain resume RUN --home {_home.Root})", e);
        }
    }

    private static async Task<T> ReadAsync<T>(HttpResponseMessage response)
    {
        await EnsureAsync(response);
        return await response.Content.ReadFromJsonAsync<T>(SnapshotReader.Json) ?? throw new InvalidDataException($"{response.RequestMessage?.RequestUri}: empty answer");
    }

    private static async Task EnsureAsync(HttpResponseMessage response)
    {
        if (response.IsSuccessStatusCode) return;
        var text = await response.Content.ReadAsStringAsync();
        string reason;
        try { reason = System.Text.Json.JsonSerializer.Deserialize<ErrorResponse>(text, SnapshotReader.Json)?.Error ?? text; }
        catch (System.Text.Json.JsonException) { reason = text; }
        if (response.StatusCode == HttpStatusCode.NotFound) throw new KeyNotFoundException(reason);
        throw new InvalidOperationException($"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri}: {(int)response.StatusCode} {reason}");
    }

    private sealed record StartedRun(Guid Id);

    private sealed record InterruptAnswer(bool Interrupted);
}
