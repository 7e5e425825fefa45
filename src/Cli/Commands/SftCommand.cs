using System.CommandLine;
using System.Globalization;
using PostTrain.Workflows.Models;

namespace PostTrain.Cli.Commands;

/// <summary><c>posttrain sft --model DIR --data FILE --out DIR</c>: supervised fine-tuning in one line (workflows/sft.json).</summary>
public static class SftCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Policy to fine-tune: a Hugging Face directory, sha256:… or a model name", Required = true };
        var data = new Option<string>("--data") { Description = "SFT examples, JSONL: {\"prompt\": [{\"role\", \"content\"}…], \"response\": \"…\"}", Required = true };
        var outDir = new Option<string>("--out") { Description = "New directory for the fine-tuned model (Hugging Face layout)", Required = true };
        var epochs = new Option<int?>("--epochs") { Description = "Passes over the data (default: workflows/sft.json)" };
        var lr = new Option<double?>("--learning-rate") { Description = "Peak learning rate (default: workflows/sft.json)" };
        var seed = new Option<long>("--seed") { Description = "Run seed", DefaultValueFactory = _ => 0 };
        var device = new Option<string>("--device") { Description = "cpu | cuda", DefaultValueFactory = _ => "cpu" };
        var home = CliOptions.Home();
        var json = CliOptions.Json();
        var command = new Command("sft", "Fine-tune a model on SFT examples and write it as a Hugging Face directory") { model, data, outDir, epochs, lr, seed, device, home, json };
        command.SetAction((p, ct) =>
        {
            var file = p.GetValue(data)!;
            if (OneLiner.CheckSft(file) is { } error) return Task.FromResult(Output.Error(error));
            return OneLiner.RunAsync("sft", p.GetValue(outDir)!, p.GetValue(home), p.GetValue(json), p.GetValue(seed), p.GetValue(device)!, (catalog, artifacts) =>
            {
                var parameters = new Dictionary<string, string>
                {
                    ["model"] = catalog.Resolve(p.GetValue(model)!, "--model", ModelCatalog.PolicyRole).ToString(),
                    ["data"] = artifacts.ImportFile(file).ToString(),
                };
                if (p.GetValue(epochs) is { } e) parameters["epochs"] = e.ToString(CultureInfo.InvariantCulture);
                if (p.GetValue(lr) is { } l) parameters["learningRate"] = l.ToString("R", CultureInfo.InvariantCulture);
                return parameters;
            }, ct);
        });
        return command;
    }
}
