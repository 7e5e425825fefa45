using System.Text.Json.Nodes;

namespace PostTrain.Studio.Api;

/// <summary>Body of POST /api/runs: a workflow name, parameter values (JSON) over the defaults, and an optional seed.</summary>
public sealed record StartRunRequest(string Workflow, JsonObject? Parameters = null, long? Seed = null);
