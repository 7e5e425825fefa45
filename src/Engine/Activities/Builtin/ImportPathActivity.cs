using PostTrain.Engine.Store;

namespace PostTrain.Engine.Activities.Builtin;

/// <summary>Brings a file or directory from outside (a base checkpoint, a dataset) into the artifact store.</summary>
[Activity("ImportPath", Category = "Utility", Description = "Copy a file or directory into the content-addressed artifact store.")]
public sealed class ImportPathActivity : Activity<ImportPathActivity.Inputs, ImportPathActivity.Outputs>
{
    public sealed class Inputs
    {
        [Input("File or directory to import", Required = true)] public string Path { get; init; } = "";
        /// <summary>Registers the artifact as a checkpoint of this kind (e.g. "policy") when set.</summary>
        [Input("Register as a checkpoint of this kind (empty = plain artifact)")] public string CheckpointKind { get; init; } = "";
    }

    public sealed class Outputs
    {
        [Output("The stored artifact")] public ArtifactRef Artifact { get; init; }
        [Output("Bytes imported")] public long Bytes { get; init; }
    }

    public override Task<Outputs> ExecuteAsync(Inputs input, ActivityContext context)
    {
        var path = System.IO.Path.GetFullPath(input.Path);
        ArtifactRef artifact;
        long bytes;
        if (File.Exists(path))
        {
            artifact = context.Artifacts.ImportFile(path);
            bytes = new FileInfo(path).Length;
        }
        else if (Directory.Exists(path))
        {
            var files = Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories).ToList();
            bytes = files.Sum(f => new FileInfo(f).Length);
            artifact = context.Artifacts.PutDirectory(dir =>
            {
                foreach (var f in files)
                {
                    context.CancellationToken.ThrowIfCancellationRequested();
                    var target = System.IO.Path.Combine(dir, System.IO.Path.GetRelativePath(path, f));
                    Directory.CreateDirectory(System.IO.Path.GetDirectoryName(target)!);
                    File.Copy(f, target);
                }
            });
        }
        else throw new FileNotFoundException($"ImportPath: '{input.Path}' is neither a file nor a directory (resolved to {path})");
        if (input.CheckpointKind.Length > 0) context.RegisterCheckpoint(artifact, input.CheckpointKind, name: System.IO.Path.GetFileName(path));
        context.RecordMetric("bytes", bytes);
        return Task.FromResult(new Outputs { Artifact = artifact, Bytes = bytes });
    }
}
