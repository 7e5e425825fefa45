using System.Text.Json.Nodes;
using PostTrain.Engine.Definitions;

namespace PostTrain.Engine.Runtime;

/// <summary>A step whose dependencies are done: its path, node, resolved inputs and enclosing round.</summary>
public sealed record ReadyStep(string Path, ActivityNode Node, JsonObject Inputs, int? Round);
