using System.CommandLine;
using PostTrain.Workflows.Models;

namespace PostTrain.Cli.Commands;

/// <summary><c>posttrain sft --model DIR --data FILE --out DIR</c>: supervised fine-tuning in one line (workflows/sft.json).</summary>
public static class SftCommand
{
    public static Command Create()
    {
        var o = new OneLinerOptions("Policy to fine-tune: a Hugging Face directory, sha256:… or a model name",
            "SFT examples, JSONL: {\"prompt\": [{\"role\", \"content\"}…], \"response\": \"…\"}",
            "New directory for the fine-tuned model (Hugging Face layout)");
        var command = o.Command("sft", "Fine-tune a model on SFT examples and write it as a Hugging Face directory");
        command.SetAction((p, ct) =>
        {
            var file = p.GetValue(o.Data)!;
            if (OneLiner.CheckSft(file) is { } error) return Task.FromResult(Output.Error(error));
            return o.RunAsync(p, "sft", (catalog, artifacts) => new()
            {
                ["model"] = catalog.Resolve(p.GetValue(o.Model)!, "--model", ModelCatalog.PolicyRole).ToString(),
                ["data"] = artifacts.ImportFile(file).ToString(),
            }, ct);
        });
        return command;
    }
}
