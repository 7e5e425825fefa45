using System.Text.RegularExpressions;
using PostTrain.Model.Checkpoints;
using PostTrain.Workflows.Activities.Stages;
using PostTrain.Engine.Store;

namespace PostTrain.Workflows.Models;

/// <summary>
/// Where a checkpoint is taken (a base, a reward model, a model to generate from or export), it may be given three ways:
/// a Hugging Face directory path, a <c>sha256:</c> artifact reference, or a name given at <c>posttrain model import</c>.
/// Directories are checked (<see cref="CheckpointInspector"/>) and stored by content hash, so a run records the hash,
/// never a path whose contents may change. Names live as small files under <c>HOME/models/</c>, so any process of the
/// home resolves them without owning its database.
/// </summary>
public sealed partial class ModelCatalog(string home, ArtifactStore artifacts)
{
    public string NamesDirectory { get; } = Path.Combine(Path.GetFullPath(home), "models");

    /// <summary>Checks <paramref name="dir"/>, stores it by content hash and, given a name, records it (replacing an older one).</summary>
    /// <exception cref="ArgumentException">The name is malformed, or the directory is not a checkpoint (the message names the file and why).</exception>
    public ModelImport Import(string dir, string? name = null)
    {
        if (name is not null) CheckName(name);
        CheckpointSummary summary;
        try { summary = CheckpointInspector.Inspect(dir); }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException) { throw new ArgumentException(e.Message, e); }
        var artifact = artifacts.PutDirectory(target => StageSupport.CopyDirectory(dir, target));
        if (name is not null)
        {
            Directory.CreateDirectory(NamesDirectory);
            AtomicFile.WriteAllText(NamePath(name), artifact + "\n");
        }
        return new ModelImport(artifact, name, summary);
    }

    /// <summary>
    /// The stored checkpoint that <paramref name="reference"/> means: a <c>sha256:</c> reference in the store, else an
    /// existing directory (imported), else a name. <paramref name="what"/> leads the error (e.g. "--base").
    /// </summary>
    /// <exception cref="ArgumentException">One line: what was given and what it is not.</exception>
    public ArtifactRef Resolve(string reference, string what)
    {
        var text = reference.Trim();
        if (text.Length == 0) throw new ArgumentException($"{what}: empty; expected a checkpoint directory, a sha256: reference or a model name");
        if (text.StartsWith(ArtifactRef.Prefix, StringComparison.Ordinal))
        {
            ArtifactRef artifact;
            try { artifact = ArtifactRef.Parse(text); }
            catch (FormatException e) { throw new ArgumentException($"{what}: {e.Message}", e); }
            return CheckStored(artifact, what, text);
        }
        if (Directory.Exists(text))
        {
            try { return Import(text).Artifact; }
            catch (ArgumentException e) { throw new ArgumentException($"{what}: {e.Message}", e); }
        }
        if (IsName(text) && File.Exists(NamePath(text)))
        {
            var stored = File.ReadAllText(NamePath(text)).Trim();
            try { return CheckStored(ArtifactRef.Parse(stored), what, text); }
            catch (FormatException) { throw new ArgumentException($"{what}: model name '{text}' points at '{stored}' in {NamePath(text)}, which is not a sha256: reference; import it again"); }
        }
        if (File.Exists(text)) throw new ArgumentException($"{what}: '{text}' is a file; expected a checkpoint directory (config.json, model.safetensors, tokenizer files)");
        throw new ArgumentException($"{what}: '{text}' is neither a checkpoint directory, a sha256: reference, nor a model name in {NamesDirectory} (name one with: posttrain model import DIR --name NAME)");
    }

    /// <summary>As <see cref="Resolve(string, string)"/>, and refuses a checkpoint of the other <see cref="RoleOf">role</see> (a reward model given as a policy, or the reverse).</summary>
    public ArtifactRef Resolve(string reference, string what, string role)
    {
        var artifact = Resolve(reference, what);
        var actual = RoleOf(artifacts.PathOf(artifact));
        if (actual != role)
            throw new ArgumentException($"{what}: '{reference.Trim()}' ({artifact}) is a {actual.Replace('_', ' ')} checkpoint, expected a {role.Replace('_', ' ')}" +
                (role == RewardModelRole ? $" (a Hugging Face {CheckpointInspector.SequenceClassification} directory, or one a run trained)" : ""));
        return artifact;
    }

    public const string PolicyRole = "policy", RewardModelRole = "reward_model";

    /// <summary><see cref="RewardModelRole"/> for an HF sequence classifier or a reward model PostTrain saved (metadata kind), else <see cref="PolicyRole"/>.</summary>
    public static string RoleOf(string dir)
    {
        var config = PostTrain.Model.LlamaConfig.Load(Path.Combine(dir, Checkpoint.ConfigFile));
        if (config.Architectures.Contains(CheckpointInspector.SequenceClassification)) return RewardModelRole;
        var metadata = Path.Combine(dir, Checkpoint.MetadataFile);
        if (!File.Exists(metadata)) return PolicyRole;
        using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllBytes(metadata));
        return doc.RootElement.ValueKind == System.Text.Json.JsonValueKind.Object && doc.RootElement.TryGetProperty("kind", out var kind)
            && kind.ValueKind == System.Text.Json.JsonValueKind.String && kind.GetString() == RewardModelRole ? RewardModelRole : PolicyRole;
    }

    /// <summary>
    /// Replaces each artifact-typed parameter given as a checkpoint directory or a model name with its stored reference,
    /// so <c>run WORKFLOW -p model=DIR</c> works and the run records the hash. Other values are left for the binder.
    /// </summary>
    public void ResolveParameters(PostTrain.Engine.Definitions.WorkflowDefinition definition, IDictionary<string, string> parameters)
    {
        foreach (var (name, parameter) in definition.Parameters)
        {
            if (parameter.Type != PostTrain.Engine.Definitions.PortTypes.Artifact || !parameters.TryGetValue(name, out var value)) continue;
            var text = value.Trim();
            var isCheckpointDir = Directory.Exists(text) && File.Exists(Path.Combine(text, Checkpoint.ConfigFile));
            if (isCheckpointDir || (IsName(text) && File.Exists(NamePath(text))))
                parameters[name] = Resolve(text, $"--param {name}").ToString();
        }
    }

    /// <summary>The directory of <paramref name="reference"/>: a directory as given, else the stored artifact's; imports nothing.</summary>
    public string Locate(string reference, string what) =>
        Directory.Exists(reference.Trim()) ? Path.GetFullPath(reference.Trim()) : artifacts.PathOf(Resolve(reference, what));

    /// <summary>Every recorded name and the checkpoint it means, by name.</summary>
    public IReadOnlyList<(string Name, string Artifact)> Names() =>
        !Directory.Exists(NamesDirectory) ? [] :
        [.. Directory.EnumerateFiles(NamesDirectory).Select(f => (Path.GetFileName(f), File.ReadAllText(f).Trim())).Where(n => IsName(n.Item1)).OrderBy(n => n.Item1, StringComparer.Ordinal)];

    private ArtifactRef CheckStored(ArtifactRef artifact, string what, string given)
    {
        var path = artifacts.PathOf(artifact);
        if (!artifacts.Exists(artifact)) throw new ArgumentException($"{what}: {given} is not in the artifact store {artifacts.Root}");
        if (!Directory.Exists(path) || !File.Exists(Path.Combine(path, Checkpoint.ConfigFile)))
            throw new ArgumentException($"{what}: {given} is not a checkpoint (no {Checkpoint.ConfigFile} in {path})");
        return artifact;
    }

    private string NamePath(string name) => Path.Combine(NamesDirectory, name);

    public static bool IsName(string text) => NamePattern().IsMatch(text) && !text.StartsWith(ArtifactRef.Prefix, StringComparison.Ordinal);

    private static void CheckName(string name)
    {
        if (!IsName(name))
            throw new ArgumentException($"--name: '{name}' is not a model name; expected letters, digits, '.', '_' or '-' (up to 100, starting with a letter or digit)");
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")]
    private static partial Regex NamePattern();
}
