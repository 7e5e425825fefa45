using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using PostTrain.Workflows.Contracts;
using PostTrain.Engine.Runtime;
using PostTrain.Engine.Store;
using PostTrain.Workflows.Validation;
using PostTrain.Engine.Definitions;

namespace PostTrain.Workflows.Triggers;

/// <summary>
/// Handles <see cref="PreferenceDataArrived"/>: validates the batch, stores it (artifact, then dataset record) and
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

        var bound = catalog.All()
            .Where(r => r.Definition is not null && r.Definition.Triggers.Any(t => t.Event == KnownTriggers.PreferenceDataArrived))
            .ToList();
        var artifact = artifacts.PutBytes(Encoding.UTF8.GetBytes(jsonl));
        var dataset = new DatasetRecord { Id = m.BatchId == Guid.Empty ? Guid.NewGuid() : m.BatchId, Kind = "preferences", Artifact = artifact.ToString(), Records = verdict.Pairs, Source = string.IsNullOrEmpty(m.Source) ? source : m.Source, At = DateTime.UtcNow };
        engine.RecordDataset(dataset);

        var payload = new JsonObject { ["dataset"] = artifact.ToString(), ["pairs"] = verdict.Pairs, ["batchId"] = dataset.Id.ToString() };
        var runs = new List<Guid>();
        foreach (var load in bound)
        {
            var def = load.Definition!;
            var binding = def.Triggers.First(t => t.Event == KnownTriggers.PreferenceDataArrived);
            var values = new JsonObject();
            foreach (var (param, field) in binding.Parameters) values[param] = payload[field]?.DeepClone();
            try
            {
                runs.Add(await launcher.StartAsync(load.Source, new Dictionary<string, string>(), seed: 0, trigger: $"{KnownTriggers.PreferenceDataArrived}:{dataset.Id}", bound: values).ConfigureAwait(false));
            }
            catch (WorkflowInvalidException e)
            {
                log.LogError("workflow {Workflow} binds {Event} but cannot run: {Error}", def.Id, KnownTriggers.PreferenceDataArrived, e.Message);
            }
        }
        var accepted = new PreferenceDataAccepted { BatchId = dataset.Id, Dataset = artifact.ToString(), Pairs = verdict.Pairs, Runs = runs, At = DateTime.UtcNow };
        await bus.PublishAsync(accepted).ConfigureAwait(false);
        return accepted;
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
