using System.CommandLine;
using System.Globalization;
using PostTrain.Workflows.Models;

namespace PostTrain.Cli.Commands;

/// <summary>
/// <c>posttrain reward --model DIR --data FILE --out DIR</c>: a reward model in one line (workflows/reward.json), written
/// as a Hugging Face LlamaForSequenceClassification directory that <c>iterate --reward-model</c> takes back.
/// </summary>
public static class RewardCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Policy the reward model starts from: a Hugging Face directory, sha256:… or a model name", Required = true };
        var data = new Option<string>("--data") { Description = "Preference pairs, JSONL (explicit prompt, HH-RLHF or UltraFeedback layout)", Required = true };
        var outDir = new Option<string>("--out") { Description = "New directory for the reward model (LlamaForSequenceClassification)", Required = true };
        var epochs = new Option<int?>("--epochs") { Description = "Passes over the pairs (default: workflows/reward.json)" };
        var lr = new Option<double?>("--learning-rate") { Description = "Peak learning rate (default: workflows/reward.json)" };
        var seed = new Option<long>("--seed") { Description = "Run seed", DefaultValueFactory = _ => 0 };
        var device = new Option<string>("--device") { Description = "cpu | cuda", DefaultValueFactory = _ => "cpu" };
        var home = CliOptions.Home();
        var json = CliOptions.Json();
        var command = new Command("reward", "Train a reward model on preference pairs and write it as a Hugging Face directory") { model, data, outDir, epochs, lr, seed, device, home, json };
        command.SetAction((p, ct) =>
        {
            var (pairs, error) = OneLiner.CheckPreferences(p.GetValue(data)!);
            if (error is not null) return Task.FromResult(Output.Error(error));
            return OneLiner.RunAsync("reward", p.GetValue(outDir)!, p.GetValue(home), p.GetValue(json), p.GetValue(seed), p.GetValue(device)!, (catalog, artifacts) =>
            {
                var parameters = new Dictionary<string, string>
                {
                    ["model"] = catalog.Resolve(p.GetValue(model)!, "--model", ModelCatalog.PolicyRole).ToString(),
                    ["data"] = OneLiner.StorePairs(artifacts, pairs!),
                };
                if (p.GetValue(epochs) is { } e) parameters["epochs"] = e.ToString(CultureInfo.InvariantCulture);
                if (p.GetValue(lr) is { } l) parameters["learningRate"] = l.ToString("R", CultureInfo.InvariantCulture);
                return parameters;
            }, ct);
        });
        return command;
    }
}
