using PostTrain.Workflows.Activities;
using PostTrain.Workflows.Activities.Stages;
using PostTrain.Workflows.Models;
using PostTrain.Engine.Store;
using PostTrain.Engine.Tests.Support;

namespace PostTrain.Workflows.Tests.Models;

/// <summary>A checkpoint given by directory, sha256: reference or name resolves to one stored artifact; anything else is one clear line.</summary>
public sealed class ModelCatalogTests : IDisposable
{
    private readonly TestHome _home = new();
    private readonly ModelCatalog _catalog;
    private readonly ArtifactStore _artifacts;

    public ModelCatalogTests()
    {
        _artifacts = new ArtifactStore(_home.Root);
        _catalog = new ModelCatalog(_home.Root, _artifacts);
    }

    [Fact]
    public void Resolve_DirectoryReferenceAndName_AllMeanTheSameArtifact()
    {
        var dir = TinyCheckpoints.Policy(Path.Combine(_home.Root, "user", "policy"));
        var imported = _catalog.Import(dir, "my-base");
        Assert.Equal("my-base", imported.Name);
        Assert.True(imported.Summary.HasChatTemplate);

        Assert.Equal(imported.Artifact, _catalog.Resolve(dir, "--base"));
        Assert.Equal(imported.Artifact, _catalog.Resolve(imported.Artifact.ToString(), "--base"));
        Assert.Equal(imported.Artifact, _catalog.Resolve("my-base", "--base", ModelCatalog.PolicyRole));
        Assert.Equal([("my-base", imported.Artifact.ToString())], _catalog.Names());
        Assert.Equal(_artifacts.PathOf(imported.Artifact), _catalog.Locate("my-base", "--model"));
        Assert.Equal(Path.GetFullPath(dir), _catalog.Locate(dir, "--model"));
    }

    [Theory]
    [InlineData("/no/such/dir", "--base: '/no/such/dir' is neither a checkpoint directory, a sha256: reference, nor a model name")]
    [InlineData("sha256:abc", "--base: 'sha256:abc' is not an artifact reference; expected sha256:<64 hex digits>")]
    [InlineData("sha256:0000000000000000000000000000000000000000000000000000000000000000", "--base: sha256:0000000000000000000000000000000000000000000000000000000000000000 is not in the artifact store")]
    [InlineData("unknown-name", "--base: 'unknown-name' is neither a checkpoint directory")]
    public void Resolve_Bad_OneLineArgumentException(string given, string expected)
    {
        var e = Assert.Throws<ArgumentException>(() => _catalog.Resolve(given, "--base"));
        Assert.StartsWith(expected, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void Resolve_DirectoryThatIsNotACheckpoint_NamesTheFile()
    {
        var dir = Directory.CreateDirectory(Path.Combine(_home.Root, "empty")).FullName;
        var e = Assert.Throws<ArgumentException>(() => _catalog.Resolve(dir, "--base"));
        Assert.Contains($"--base: {Path.Combine(dir, "config.json")}: missing", e.Message);
    }

    [Fact]
    public void Resolve_WrongRole_SaysWhatItIsAndWhatWasExpected()
    {
        var policy = TinyCheckpoints.Policy(Path.Combine(_home.Root, "user", "policy"));
        var rm = TinyCheckpoints.RewardModel(Path.Combine(_home.Root, "user", "rm"));
        Assert.Contains("is a policy checkpoint, expected a reward model",
            Assert.Throws<ArgumentException>(() => _catalog.Resolve(policy, "--reward-model", ModelCatalog.RewardModelRole)).Message);
        Assert.Contains("is a reward model checkpoint, expected a policy",
            Assert.Throws<ArgumentException>(() => _catalog.Resolve(rm, "--base", ModelCatalog.PolicyRole)).Message);
        Assert.Equal(ModelCatalog.RewardModelRole, ModelCatalog.RoleOf(rm));
    }

    [Fact]
    public void Import_BadName_Refused()
    {
        var dir = TinyCheckpoints.Policy(Path.Combine(_home.Root, "user", "policy"));
        Assert.StartsWith("--name: '../x' is not a model name", Assert.Throws<ArgumentException>(() => _catalog.Import(dir, "../x")).Message);
    }

    [Fact]
    public async Task PretrainActivity_BaseByPathAndName_PassesTheStoredCheckpointThrough_AndABadBaseIsPermanent()
    {
        var dir = TinyCheckpoints.Policy(Path.Combine(_home.Root, "user", "policy"));
        var context = ActivityContext.ForTest(_home.Root);
        var activity = new PretrainActivity();
        var byPath = await activity.ExecuteAsync(new PretrainActivity.Inputs { Base = dir }, context);
        _catalog.Import(dir, "named");
        var byName = await activity.ExecuteAsync(new PretrainActivity.Inputs { Base = "named" }, context);
        Assert.Equal(byPath.Checkpoint, byName.Checkpoint);
        // ArgumentException is what the worker reports as permanent: no retries of a deterministic error.
        await Assert.ThrowsAsync<ArgumentException>(() => activity.ExecuteAsync(new PretrainActivity.Inputs { Base = "/some/dir" }, context));
    }

    [Fact]
    public async Task ReadInputs_MalformedArtifactReference_IsAnArgumentException()
    {
        var context = ActivityContext.ForTest(_home.Root);
        var inputs = new System.Text.Json.Nodes.JsonObject { ["policy"] = "/some/dir", ["data"] = "sha256:" + new string('0', 64) };
        var e = await Assert.ThrowsAsync<ArgumentException>(() => new SftActivity().RunAsync(inputs, context));
        Assert.Contains("'/some/dir' is not an artifact reference", e.Message);
    }

    [Fact]
    public void ResolveParameters_CheckpointDirectoryAndNameOfArtifactParameters_BecomeReferences()
    {
        var dir = TinyCheckpoints.Policy(Path.Combine(_home.Root, "user", "policy"));
        var imported = _catalog.Import(dir, "named");
        var definition = new PostTrain.Engine.Definitions.WorkflowDefinition
        {
            Id = "t",
            Parameters = new Dictionary<string, PostTrain.Engine.Definitions.ParameterDefinition>
            {
                ["model"] = new() { Name = "model", Type = "artifact" },
                ["reference"] = new() { Name = "reference", Type = "artifact" },
                ["label"] = new() { Name = "label", Type = "string" },
            },
        };
        var parameters = new Dictionary<string, string> { ["model"] = dir, ["reference"] = "named", ["label"] = "named" };
        _catalog.ResolveParameters(definition, parameters);
        Assert.Equal(imported.Artifact.ToString(), parameters["model"]);
        Assert.Equal(imported.Artifact.ToString(), parameters["reference"]);
        Assert.Equal("named", parameters["label"]);
    }

    [Theory]
    [InlineData("""{"checkpoint":"sha256:aa","best":"sha256:bb"}""", "sha256:aa")]
    [InlineData("""{"best":["sha256:r1","sha256:r2"],"report":"x"}""", "sha256:r2")]
    [InlineData("""{"best":[["sha256:a"],["sha256:b"]]}""", "sha256:b")]
    [InlineData("""{"report":"sha256:x"}""", null)]
    [InlineData(null, null)]
    public void FinalCheckpoint_CheckpointOutputElseLastBest(string? outputs, string? expected) =>
        Assert.Equal(expected, RunOutputs.FinalCheckpoint(outputs));

    public void Dispose() => _home.Dispose();
}
