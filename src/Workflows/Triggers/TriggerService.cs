using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using PostTrain.Model.Prompts;
using PostTrain.Workflows.Contracts;
using PostTrain.Engine.Runtime;
using PostTrain.Engine.Store;
using PostTrain.Workflows.Validation;
using PostTrain.Engine.Definitions;

namespace PostTrain.Workflows.Triggers;

/// <summary>
/// Handles <see cref="PreferenceDataArrived"/> (and <see cref="PromptsArrived"/>, <see cref="HandlePromptsAsync"/>): validates the batch, stores it (artifact, then dataset record) and
/// starts every workflow whose definition binds the event (queued behind a running run of the same workflow).
/// A bad batch stores nothing and starts nothing; either way the outcome is published.
/// </summary>
public sealed class TriggerService(
    WorkflowEngine engine,
    WorkflowCatalog catalog,
    RunLauncher launcher,
    ArtifactStore artifacts,
    IEngineBus bus,
    IEnumerable<IPreferenceDataValidator> validators,
    ILogger<TriggerService> log)
{
    public async Task<object> HandleAsync(PreferenceDataArrived m)
    {
        var (jsonl, readError) = Read(m);
        var source = m.FilePath ?? $"inline batch {m.BatchId}";
        var errors = new List<string>();
        if (readError is not null) errors.Add(readError);
        var validator = validators.LastOrDefault();
        PreferenceBatchValidation? verdict = null;
        if (jsonl is not null)
        {
            if (validator is null) errors.Add("no preference validator is configured in this host (IPreferenceDataValidator)");
            else
            {
                verdict = validator.Validate(jsonl, source);
                errors.AddRange(verdict.Errors);
                if (verdict.Errors.Count == 0 && verdict.Pairs == 0) errors.Add($"{source}: the batch holds no preference pairs");
            }
        }
        if (errors.Count > 0 || verdict is null || jsonl is null)
        {
            log.LogWarning("preference batch {Batch} rejected: {Errors}", m.BatchId, string.Join("; ", errors));
            var rejected = new PreferenceDataRejected { BatchId = m.BatchId, Errors = errors, At = DateTime.UtcNow };
            await bus.PublishAsync(rejected).ConfigureAwait(false);
            return rejected;
        }

        var artifact = artifacts.PutBytes(Encoding.UTF8.GetBytes(jsonl));
        var dataset = new DatasetRecord { Id = m.BatchId == Guid.Empty ? Guid.NewGuid() : m.BatchId, Kind = "preferences", Artifact = artifact.ToString(), Records = verdict.Pairs, Source = string.IsNullOrEmpty(m.Source) ? source : m.Source, At = DateTime.UtcNow };
        engine.RecordDataset(dataset);

        var payload = new JsonObject { ["dataset"] = artifact.ToString(), ["pairs"] = verdict.Pairs, ["batchId"] = dataset.Id.ToString() };
        var runs = await StartBoundAsync(KnownTriggers.PreferenceDataArrived, payload, dataset.Id).ConfigureAwait(false);
        var accepted = new PreferenceDataAccepted { BatchId = dataset.Id, Dataset = artifact.ToString(), Pairs = verdict.Pairs, Runs = runs, At = DateTime.UtcNow };
        await bus.PublishAsync(accepted).ConfigureAwait(false);
        return accepted;
    }

    /// <summary>
    /// Handles <see cref="PromptsArrived"/>: imports the file all or nothing (<see cref="PromptImporter"/>), stores it as a
    /// prompts dataset and starts every workflow that binds the event, with the dataset and verifier as its parameters.
    /// </summary>
    public async Task<object> HandlePromptsAsync(PromptsArrived m)
    {
        var staged = Path.Combine(Path.GetTempPath(), $"posttrain-prompts-{Environment.ProcessId}-{Guid.NewGuid():N}.jsonl");
        try
        {
            var result = File.Exists(m.FilePath) ? PromptImporter.Import(m.FilePath, staged) : null;
            var errors = result is null ? [$"{m.FilePath}: file not found"] : result.Errors.Select(e => e.ToString()).ToList();
            if (result is { ErrorCount: var n } && n > result.Errors.Count) errors.Add($"... and {n - result.Errors.Count} more");
            if (result is { Succeeded: true } && !string.IsNullOrWhiteSpace(m.Verifier))
            {
                try { Verifiers.Parse(m.Verifier); }
                catch (ArgumentException e) { errors.Add(e.Message); }
            }
            if (result is not { Succeeded: true } || errors.Count > 0)
            {
                if (errors.Count == 0) errors.Add($"{m.FilePath}: no prompts");
                log.LogWarning("prompt batch {Batch} rejected: {Errors}", m.BatchId, string.Join("; ", errors));
                var rejected = new PromptsRejected { BatchId = m.BatchId, Errors = errors, At = DateTime.UtcNow };
                await bus.PublishAsync(rejected).ConfigureAwait(false);
                return rejected;
            }
            var artifact = artifacts.ImportFile(staged);
            var dataset = new DatasetRecord { Id = m.BatchId == Guid.Empty ? Guid.NewGuid() : m.BatchId, Kind = "prompts", Artifact = artifact.ToString(), Records = result.Rows, Source = string.IsNullOrEmpty(m.Source) ? m.FilePath : m.Source, At = DateTime.UtcNow };
            engine.RecordDataset(dataset);
            var payload = new JsonObject { ["dataset"] = artifact.ToString(), ["prompts"] = result.Rows, ["verifier"] = m.Verifier, ["batchId"] = dataset.Id.ToString() };
            var runs = await StartBoundAsync(KnownTriggers.PromptsArrived, payload, dataset.Id).ConfigureAwait(false);
            var accepted = new PromptsAccepted { BatchId = dataset.Id, Dataset = artifact.ToString(), Prompts = result.Rows, Runs = runs, At = DateTime.UtcNow };
            await bus.PublishAsync(accepted).ConfigureAwait(false);
            return accepted;
        }
        finally { File.Delete(staged); }
    }

    /// <summary>Starts every workflow that binds <paramref name="eventName"/>, its bound parameters taken from <paramref name="payload"/>.</summary>
    private async Task<List<Guid>> StartBoundAsync(string eventName, JsonObject payload, Guid datasetId)
    {
        var runs = new List<Guid>();
        foreach (var load in catalog.All().Where(r => r.Definition is not null && r.Definition.Triggers.Any(t => t.Event == eventName)))
        {
            var def = load.Definition!;
            var binding = def.Triggers.First(t => t.Event == eventName);
            var values = new JsonObject();
            foreach (var (param, field) in binding.Parameters) values[param] = payload[field]?.DeepClone();
            try
            {
                runs.Add(await launcher.StartAsync(load.Source, new Dictionary<string, string>(), seed: 0, trigger: $"{eventName}:{datasetId}", bound: values).ConfigureAwait(false));
            }
            catch (WorkflowInvalidException e)
            {
                log.LogError("workflow {Workflow} binds {Event} but cannot run: {Error}", def.Id, eventName, e.Message);
            }
        }
        return runs;
    }

    private static (string? Text, string? Error) Read(PreferenceDataArrived m)
    {
        if (m.InlineJsonl is not null && m.FilePath is not null) return (null, "give either FilePath or InlineJsonl, not both");
        if (m.InlineJsonl is not null)
        {
            var bytes = Encoding.UTF8.GetByteCount(m.InlineJsonl);
            return bytes > PreferenceDataArrived.MaxInlineBytes
                ? (null, $"inline batch is {bytes} bytes; the limit is {PreferenceDataArrived.MaxInlineBytes}; send a file path instead")
                : (m.InlineJsonl, null);
        }
        if (m.FilePath is null) return (null, "the message has neither FilePath nor InlineJsonl");
        if (!File.Exists(m.FilePath)) return (null, $"{m.FilePath}: file not found");
        return (File.ReadAllText(m.FilePath), null);
    }
}
