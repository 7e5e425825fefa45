using System.Text.Json;
using PostTrain.Core.Files;
using PostTrain.Engine.Store;

namespace PostTrain.Engine.Runtime;

/// <summary>
/// Requests from processes that do not own the database (e.g. <c>posttrain cancel</c> while a host runs), as
/// small files in <c>HOME/control/</c> that the owner picks up on its next tick. Works with either bus.
/// </summary>
public static class ControlRequests
{
    private sealed record Request(string Action, Guid RunId, string Reason);

    public static void RequestCancel(PostTrainHome home, Guid runId, string reason = "cancelled by user") =>
        AtomicFile.WriteAllText(Path.Combine(home.ControlDirectory, $"cancel-{runId:N}.json"), JsonSerializer.Serialize(new Request("cancel", runId, reason)));

    public static void RequestResume(PostTrainHome home, Guid runId) =>
        AtomicFile.WriteAllText(Path.Combine(home.ControlDirectory, $"resume-{runId:N}.json"), JsonSerializer.Serialize(new Request("resume", runId, "")));

    /// <summary>Applies and deletes pending requests; a request for an unknown run is dropped.</summary>
    public static async Task ProcessAsync(PostTrainHome home, WorkflowEngine engine)
    {
        foreach (var file in Directory.EnumerateFiles(home.ControlDirectory, "*.json").ToList())
        {
            Request? r;
            try { r = JsonSerializer.Deserialize<Request>(await File.ReadAllTextAsync(file).ConfigureAwait(false)); }
            catch (Exception e) when (e is IOException or JsonException) { r = null; }
            File.Delete(file);
            if (r is null) continue;
            try
            {
                if (r.Action == "cancel") await engine.CancelAsync(r.RunId, r.Reason).ConfigureAwait(false);
                else if (r.Action == "resume") await engine.ResumeAsync(r.RunId).ConfigureAwait(false);
            }
            catch (KeyNotFoundException) { }
        }
    }
}
