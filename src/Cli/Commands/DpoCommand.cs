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
        var o = new OneLinerOptions("Policy to train: a Hugging Face directory, sha256:… or a model name",
            "Preference pairs, JSONL (explicit prompt, HH-RLHF or UltraFeedback layout)",
            "New directory for the trained model (Hugging Face layout)");
        var reference = new Option<string?>("--ref") { Description = "Reference policy (default: the model)" };
        var beta = new Option<double?>("--beta") { Description = "β, the KL anchor (default: workflows/dpo.json)" };
        var loss = new Option<string>("--loss") { Description = "sigmoid | ipo | hinge | robust | cdpo", DefaultValueFactory = _ => "sigmoid" };
        loss.AcceptOnlyFromAmong([.. Enum.GetNames<DpoLossType>().Select(n => n.ToLowerInvariant())]);
        var smoothing = new Option<double?>("--label-smoothing") { Description = $"ε, assumed rate of flipped labels (sigmoid, robust, cdpo; cdpo default {DpoOptions.CdpoLabelSmoothing})" };
        var command = o.Command("dpo", "Train a model with DPO on preference pairs and write it as a Hugging Face directory", reference, beta, loss, smoothing);
        command.SetAction((p, ct) =>
        {
            var (pairs, error) = OneLiner.CheckPreferences(p.GetValue(o.Data)!);
            if (error is not null) return Task.FromResult(Output.Error(error));
            return o.RunAsync(p, "dpo", (catalog, artifacts) =>
            {
                var policy = catalog.Resolve(p.GetValue(o.Model)!, "--model", ModelCatalog.PolicyRole).ToString();
                var parameters = new Dictionary<string, string>
                {
                    ["model"] = policy,
                    ["reference"] = p.GetValue(reference) is { } r ? catalog.Resolve(r, "--ref", ModelCatalog.PolicyRole).ToString() : policy,
                    ["data"] = OneLiner.StorePairs(artifacts, pairs!),
                    ["loss"] = Enum.Parse<DpoLossType>(p.GetValue(loss)!, ignoreCase: true).ToString(),
                };
                if (p.GetValue(beta) is { } b) parameters["beta"] = b.ToString("R", CultureInfo.InvariantCulture);
                if (p.GetValue(smoothing) is { } s) parameters["labelSmoothing"] = s.ToString("R", CultureInfo.InvariantCulture);
                return parameters;
            }, ct);
        });
        return command;
    }
}
