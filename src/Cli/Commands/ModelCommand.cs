using System.CommandLine;

namespace PostTrain.Cli.Commands;

/// <summary>
/// <c>posttrain model import DIR [--name NAME]</c>: checks a Hugging Face checkpoint directory (config, every tensor's
/// name and shape against the config, tokenizer) and stores it by content hash under a name; <c>posttrain model list</c>.
/// </summary>
public static class ModelCommand
{
    public static Command Create()
    {
        var dir = new Argument<string>("dir") { Description = "Hugging Face checkpoint directory (LlamaForCausalLM or LlamaForSequenceClassification)" };
        var name = new Option<string?>("--name") { Description = "Name to refer to it by (in --base, --reward-model, --model)" };
        var home = CliOptions.Home();
        var json = CliOptions.Json();
        var import = new Command("import", "Check a checkpoint directory and store it by content hash, optionally under a name") { dir, name, home, json };
        import.SetAction(p => Import(p.GetValue(dir)!, p.GetValue(name), p.GetValue(home), p.GetValue(json)));
        var listHome = CliOptions.Home();
        var listJson = CliOptions.Json();
        var list = new Command("list", "Model names and the checkpoints they mean") { listHome, listJson };
        list.SetAction(p => List(p.GetValue(listHome), p.GetValue(listJson)));
        return new Command("model", "Models: import Hugging Face checkpoints, list names") { import, list };
    }

    public static int Import(string dir, string? name, string? homeOption, bool json)
    {
        if (!Directory.Exists(dir)) return Output.Error($"{dir}: not a directory; expected a checkpoint directory (config.json, model.safetensors, tokenizer files)");
        Workflows.Models.ModelImport imported;
        try { imported = ModelReferences.Catalog(homeOption).Import(dir, name); }
        catch (ArgumentException e) { return Output.Error(e.Message, e.Message.StartsWith("--name", StringComparison.Ordinal) ? CliApp.Usage : CliApp.Failure); }
        var s = imported.Summary;
        if (s.Tokenizer is null) Console.Error.WriteLine($"warning: {dir} has no tokenizer files (tokenizer.json or tokenizer.model); training and --prompt need one");
        else if (!s.HasChatTemplate) Console.Error.WriteLine($"warning: {dir}: its tokenizer lacks the Llama 3 chat special tokens; PostTrain templates chats with them");
        if (json)
            Output.WriteJson(new { artifact = imported.Artifact.ToString(), name, architecture = s.Architecture, parameters = s.Parameters, dtypes = s.Dtypes, tokenizer = s.Tokenizer, chatTemplate = s.HasChatTemplate });
        else
            Console.Out.WriteLine($"{dir}: {s.Architecture}, {s.Parameters:N0} parameters ({string.Join("/", s.Dtypes)}), tokenizer {s.Tokenizer ?? "none"}; stored as {imported.Artifact}" +
                (name is null ? "" : $" named '{name}'"));
        return CliApp.Success;
    }

    public static int List(string? homeOption, bool json)
    {
        var names = ModelReferences.Catalog(homeOption).Names();
        if (json) Output.WriteJson(names.Select(n => new { name = n.Name, artifact = n.Artifact }));
        else foreach (var (n, artifact) in names) Console.Out.WriteLine($"{n}\t{artifact}");
        return CliApp.Success;
    }
}
