using PostTrain.Workflows.Models;
using PostTrain.Engine.Store;

namespace PostTrain.Cli;

/// <summary>The home's <see cref="ModelCatalog"/>, for commands that take a model by path, sha256: reference or name.</summary>
public static class ModelReferences
{
    /// <summary>Needs no ownership of the home: names are files and the artifact store is safe across processes.</summary>
    public static ModelCatalog Catalog(string? homeOption)
    {
        var home = PostTrainHome.Resolve(homeOption);
        return new ModelCatalog(home.Root, new ArtifactStore(home.Root));
    }
}
