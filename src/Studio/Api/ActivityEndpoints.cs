using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using PostTrain.Workflows.Activities;
using PostTrain.Workflows.Metrics;
using PostTrain.Engine.Definitions;

namespace PostTrain.Studio.Api;

/// <summary>/api/activities: the engine's activity descriptors (what the palette and the node forms are made from), plus the two containers.</summary>
public static class ActivityEndpoints
{
    private static readonly ActivityDescriptor[] Containers =
    [
        new()
        {
            Type = ActivityNode.RepeatType, Category = "Containers",
            Description = "Runs its body count times in sequence (rounds); {\"var\":\"round\"} and fromPrevious are available inside.",
        },
        new()
        {
            Type = ActivityNode.ForEachType, Category = "Containers",
            Description = "Runs its body once per element of items, in parallel; {\"var\":\"item\"} and {\"var\":\"index\"} are available inside.",
        },
    ];

    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/api/activities", (ActivityRegistry registry) => Results.Ok(registry.Descriptors.Concat(Containers).ToList()))
            .WithTags("activities")
            .WithSummary("Activity descriptors: type, category, description, default pool, typed inputs (defaults, required, help) and outputs.")
            .Produces<List<ActivityDescriptor>>();
        app.MapGet("/api/metrics/keys", () => Results.Ok(MetricKeys.All))
            .WithTags("activities")
            .WithSummary("The metric names the stage activities record (stage, C# name, key; a key ending in / is a prefix), so charts group them without literals of their own.")
            .Produces<List<MetricKey>>();
    }
}
