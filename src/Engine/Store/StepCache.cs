using System.Text.Json;
using PostTrain.Core.Files;

namespace PostTrain.Engine.Store;

/// <summary>
/// Worker-side cache of finished steps as files <c>HOME/cache/&lt;key&gt;.json</c>, written (temp-then-rename) after the
/// activity's artifacts are complete and before <c>ActivityCompleted</c> is published. If the engine dies before it
/// records the completion, the re-dispatched step finds its outputs here instead of running again.
/// </summary>
public sealed class StepCache(PostTrainHome home)
{
    /// <summary>A metric may be NaN or infinite (a resumed pretrain that ran no step has no loss): keep it, do not fail.</summary>
    private static readonly JsonSerializerOptions Json = new() { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };

    public bool TryGet(string key, out StepCacheEntry entry)
    {
        entry = null!;
        var path = PathOf(key);
        if (!File.Exists(path)) return false;
        try
        {
            entry = JsonSerializer.Deserialize<StepCacheEntry>(File.ReadAllText(path), Json)!;
            return entry is not null;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    public void Put(StepCacheEntry entry) => AtomicFile.WriteAllText(PathOf(entry.Id), JsonSerializer.Serialize(entry, Json));

    private string PathOf(string key) => Path.Combine(home.CacheDirectory, key + ".json");
}
