using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using PostTrain.Engine.Activities;
using PostTrain.Engine.Contracts;
using PostTrain.Engine.Definitions;
using PostTrain.Engine.Validation;

namespace PostTrain.Engine.Runtime;

/// <summary>Loads, validates and binds a workflow, then starts a run: the path shared by the CLI, RunRequested and triggers.</summary>
public sealed class RunLauncher(WorkflowEngine engine, WorkflowCatalog catalog, ActivityRegistry registry, ILogger<RunLauncher> log)
{
    /// <summary>The definition and its bound parameters, or throws <see cref="WorkflowInvalidException"/> with every problem.</summary>
    public (WorkflowDefinition Definition, JsonObject Parameters) Prepare(string workflow, IReadOnlyDictionary<string, string> parameters, JsonObject? bound = null)
    {
        var load = catalog.Load(workflow);
        var problems = WorkflowValidator.Validate(load, registry);
        if (problems.Count > 0 || load.Definition is null)
            throw new WorkflowInvalidException(load.Source, [.. problems.Select(p => p.ToString())]);
        var (withPreset, presetErrors) = ParameterPresets.Apply(load.Definition, parameters);
        var (values, errors) = ParameterBinder.Bind(load.Definition, withPreset);
        errors = [.. presetErrors, .. errors];
        if (bound is not null)
        {
            foreach (var (k, v) in bound) values[k] = v?.DeepClone();
            errors = [.. errors.Where(e => !bound.Any(b => e.StartsWith($"parameter '{b.Key}'", StringComparison.Ordinal)))];
        }
        if (errors.Count > 0) throw new WorkflowInvalidException(load.Source, errors);
        return (load.Definition, values);
    }

    public async Task<Guid> StartAsync(string workflow, IReadOnlyDictionary<string, string> parameters, long seed, string? trigger = null, Guid? runId = null, JsonObject? bound = null)
    {
        var (def, values) = Prepare(workflow, parameters, bound);
        return await engine.StartRunAsync(def, values, seed, trigger, runId).ConfigureAwait(false);
    }

    public async Task StartAsync(RunRequested request)
    {
        try
        {
            await StartAsync(request.Workflow, request.Parameters, request.Seed, "RunRequested", request.RunId == Guid.Empty ? null : request.RunId).ConfigureAwait(false);
        }
        catch (WorkflowInvalidException e)
        {
            log.LogError("run request for {Workflow} rejected: {Error}", request.Workflow, e.Message);
        }
    }
}
