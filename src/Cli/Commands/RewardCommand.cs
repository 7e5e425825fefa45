using System.CommandLine;
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
        var o = new OneLinerOptions("Policy the reward model starts from: a Hugging Face directory, sha256:… or a model name",
            "Preference pairs, JSONL (explicit prompt, HH-RLHF or UltraFeedback layout)",
            "New directory for the reward model (LlamaForSequenceClassification)");
        var command = o.Command("reward", "Train a reward model on preference pairs and write it as a Hugging Face directory");
        command.SetAction((p, ct) =>
        {
            var (pairs, error) = OneLiner.CheckPreferences(p.GetValue(o.Data)!);
            if (error is not null) return Task.FromResult(Output.Error(error));
            return o.RunAsync(p, "reward", (catalog, artifacts) => new()
            {
                ["model"] = catalog.Resolve(p.GetValue(o.Model)!, "--model", ModelCatalog.PolicyRole).ToString(),
                ["data"] = OneLiner.StorePairs(artifacts, pairs!),
            }, ct);
        });
        return command;
    }
}
