namespace PostTrain.Studio.Api;

/// <summary>
/// Body of POST /api/owner/runs: what <c>posttrain run</c> and <c>iterate</c> send to the home's owner. The workflow is
/// the file the command already validated (a path on this machine: the API is loopback only and token protected) and
/// the parameters are the command line's <c>--param</c> text. <c>ReportByCaller</c>: the caller writes the report
/// itself, with its own options, so the owner does not write it too.
/// </summary>
public sealed record SubmitRunRequest(string Path, IReadOnlyDictionary<string, string>? Parameters = null, long Seed = 0, bool ReportByCaller = false);
