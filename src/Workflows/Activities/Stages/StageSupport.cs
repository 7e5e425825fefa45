using PostTrain.Model.Prompts;
using PostTrain.Model.Data;
using PostTrain.Model.Training;
using PostTrain.Sampling;
using PostTrain.Engine.Store;
using TorchSharp;

namespace PostTrain.Workflows.Activities.Stages;

/// <summary>What every stage activity does the same way: devices, seeds, and moving results into the artifact store.</summary>
internal static class StageSupport
{
    public static torch.Device Device(ActivityContext context) => DeviceOptions.Parse(context.Device);

    /// <summary>A 31-bit seed for libraries that take an int, derived from the step's 64-bit seed.</summary>
    public static int Seed(ActivityContext context) => (int)(((ulong)context.Seed ^ ((ulong)context.Seed >> 32)) & 0x7FFF_FFFF);

    public static string PathOf(ActivityContext context, ArtifactRef artifact, string what) =>
        context.Artifacts.Exists(artifact)
            ? context.Artifacts.PathOf(artifact)
            : throw new FileNotFoundException($"{what} {artifact} is not in the artifact store under {context.Artifacts.Root}");

    /// <summary>Moves a finished directory (e.g. a checkpoint a trainer wrote) into the store.</summary>
    public static ArtifactRef StoreDirectory(ActivityContext context, string source) =>
        context.Artifacts.PutDirectory(target => CopyDirectory(source, target));

    public static ArtifactRef StoreFile(ActivityContext context, string source) => context.Artifacts.ImportFile(source);

    public static void CopyDirectory(string source, string target)
    {
        Directory.CreateDirectory(target);
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var rel = Path.GetRelativePath(source, file);
            if (Path.GetFileName(rel).StartsWith('.')) continue; // temp files of an interrupted writer
            var dest = Path.Combine(target, rel);
            Directory.CreateDirectory(Path.GetDirectoryName(dest)!);
            File.Copy(file, dest, overwrite: true);
        }
    }

    /// <summary>The chat prompt of a verifiable task, as the sampler and evaluator see it.</summary>
    public static SamplingPrompt Prompt(VerifiableTask task, string? systemPrompt) =>
        new(task.Id, PretrainCorpus.PromptFor(task, string.IsNullOrEmpty(systemPrompt) ? null : systemPrompt));
}
