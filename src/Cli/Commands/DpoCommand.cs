using System.CommandLine;
using System.Globalization;
using PostTrain.Trainers.Dpo;
using PostTrain.Workflows.Models;

namespace PostTrain.Cli.Commands;

/// <summary>
/// <c>posttrain dpo --model DIR --data FILE --out DIR [--ref DIR] [--beta B] [--loss sigmoid|ipo|hinge|robust|cdpo]</c>:
/// DPO in one line (workflows/dpo.json); the reference defaults to the model itself, as in TRL.
/// </summary>
public static class DpoCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Policy to train: a Hugging Face directory, sha256:… or a model name", Required = true };
        var data = new Option<string>("--data") { Description = "Preference pairs, JSONL (explicit prompt, HH-RLHF or UltraFeedback layout)", Required = true };
        var outDir = new Option<string>("--out") { Description = "New directory for the trained model (Hugging Face layout)", Required = true };
        var reference = new Option<string?>("--ref") { Description = "Reference policy (default: the model)" };
        var beta = new Option<double?>("--beta") { Description = "β, the KL anchor (default: workflows/dpo.json)" };
        var loss = new Option<string>("--loss") { Description = "sigmoid | ipo | hinge | robust | cdpo", DefaultValueFactory = _ => "sigmoid" };
        loss.AcceptOnlyFromAmong([.. Enum.GetNames<DpoLossType>().Select(n => n.ToLowerInvariant())]);
        var smoothing = new Option<double?>("--label-smoothing") { Description = $"ε, assumed rate of flipped labels (sigmoid, robust, cdpo; cdpo default {DpoOptions.CdpoLabelSmoothing})" };
        var epochs = new Option<int?>("--epochs") { Description = "Passes over the pairs (default: workflows/dpo.json)" };
        var lr = new Option<double?>("--learning-rate") { Description = "Peak learning rate (default: workflows/dpo.json)" };
        var seed = new Option<long>("--seed") { Description = "Run seed", DefaultValueFactory = _ => 0 };
        var device = new Option<string>("--device") { Description = "cpu | cuda", DefaultValueFactory = _ => "cpu" };
        var home = CliOptions.Home();
        var json = CliOptions.Json();
        var command = new Command("dpo", "Train a model with DPO on preference pairs and write it as a Hugging Face directory")
            { model, data, outDir, reference, beta, loss, smoothing, epochs, lr, seed, device, home, json };
        command.SetAction((p, ct) =>
        {
            var (pairs, error) = OneLiner.CheckPreferences(p.GetValue(data)!);
            if (error is not null) return Task.FromResult(Output.Error(error));
            return OneLiner.RunAsync("dpo", p.GetValue(outDir)!, p.GetValue(home), p.GetValue(json), p.GetValue(seed), p.GetValue(device)!, (catalog, artifacts) =>
            {
                var policy = catalog.Resolve(p.GetValue(model)!, "--model", ModelCatalog.PolicyRole).ToString();
                var parameters = new Dictionary<string, string>
                {
                    ["model"] = policy,
                    ["reference"] = p.GetValue(reference) is { } r ? catalog.Resolve(r, "--ref", ModelCatalog.PolicyRole).ToString() : policy,
                    ["data"] = OneLiner.StorePairs(artifacts, pairs!),
                    ["loss"] = Enum.Parse<DpoLossType>(p.GetValue(loss)!, ignoreCase: true).ToString(),
                };
                if (p.GetValue(beta) is { } b) parameters["beta"] = b.ToString("R", CultureInfo.InvariantCulture);
                if (p.GetValue(smoothing) is { } s) parameters["labelSmoothing"] = s.ToString("R", CultureInfo.InvariantCulture);
                if (p.GetValue(epochs) is { } e) parameters["epochs"] = e.ToString(CultureInfo.InvariantCulture);
                if (p.GetValue(lr) is { } l) parameters["learningRate"] = l.ToString("R", CultureInfo.InvariantCulture);
                return parameters;
            }, ct);
        });
        return command;
    }
}
