using System.CommandLine;
using System.Globalization;

namespace PostTrain.Cli;

/// <summary>
/// The options <c>posttrain sft</c>, <c>dpo</c> and <c>reward</c> share. Epochs and learning rate are unset unless
/// given, so the workflow's parameter defaults stay their only declaration.
/// </summary>
public sealed class OneLinerOptions
{
    public Option<string> Model { get; }
    public Option<string> Data { get; }
    public Option<string> Out { get; }
    public Option<int?> Epochs { get; } = new("--epochs") { Description = "Passes over the data (default: the workflow's)" };
    public Option<double?> LearningRate { get; } = new("--learning-rate") { Description = "Peak learning rate (default: the workflow's)" };
    public Option<long> Seed { get; } = new("--seed") { Description = "Run seed", DefaultValueFactory = _ => 0 };
    public Option<string> Device { get; } = new("--device") { Description = "cpu | cuda", DefaultValueFactory = _ => "cpu" };
    public Option<string?> Home { get; } = CliOptions.Home();
    public Option<bool> Json { get; } = CliOptions.Json();

    public OneLinerOptions(string model, string data, string output)
    {
        Model = new("--model") { Description = model, Required = true };
        Data = new("--data") { Description = data, Required = true };
        Out = new("--out") { Description = output, Required = true };
    }

    /// <summary>A command with these options, then <paramref name="more"/>.</summary>
    public Command Command(string name, string description, params Option[] more)
    {
        var command = new Command(name, description) { Model, Data, Out };
        foreach (var o in more) command.Options.Add(o);
        foreach (var o in new Option[] { Epochs, LearningRate, Seed, Device, Home, Json }) command.Options.Add(o);
        return command;
    }

    /// <summary>Runs <paramref name="workflow"/> with the workflow parameters <paramref name="bind"/> returns plus epochs and learning rate when given.</summary>
    public Task<int> RunAsync(ParseResult p, string workflow, Func<Workflows.Models.ModelCatalog, Engine.Store.ArtifactStore, Dictionary<string, string>> bind, CancellationToken ct) =>
        OneLiner.RunAsync(workflow, p.GetValue(Out)!, p.GetValue(Home), p.GetValue(Json), p.GetValue(Seed), p.GetValue(Device)!, (catalog, artifacts) =>
        {
            var parameters = bind(catalog, artifacts);
            if (p.GetValue(Epochs) is { } e) parameters["epochs"] = e.ToString(CultureInfo.InvariantCulture);
            if (p.GetValue(LearningRate) is { } l) parameters["learningRate"] = l.ToString("R", CultureInfo.InvariantCulture);
            return parameters;
        }, ct);
}
