using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using PostTrain.Engine.Hosting;
using PostTrain.Engine.Store;
using PostTrain.Workflows.Reports;
using PostTrain.Workflows.Triggers;

namespace PostTrain.Workflows.Hosting;

/// <summary>
/// Builds a PostTrain process: the generic engine host (<see cref="EngineHostFactory"/>) with the post-training
/// application's stage activities, its preference-data trigger and the model core's preference validator. Used by
/// the CLI, the studio and the tests.
/// </summary>
public static class PostTrainHostFactory
{
    /// <summary>Builds the host; with the engine role a second writer fails fast with <see cref="HomeLockedException"/>.</summary>
    public static IHost Build(PostTrainHostOptions options) => EngineHostFactory.Build(WithApplication(options));

    public static IServiceCollection Add(IServiceCollection services, PostTrainHostOptions options) =>
        EngineHostFactory.Add(services, WithApplication(options));

    private static PostTrainHostOptions WithApplication(PostTrainHostOptions options) => options with
    {
        ActivityAssemblies = [PostTrainApplication.Assembly, .. options.ActivityAssemblies],
        Triggers = [.. PostTrainApplication.Triggers, .. options.Triggers],
        ConfigureServices = services =>
        {
            if (options.Engine)
            {
                services.AddSingleton<TriggerService>();
                // The model core's importer by default; a later registration (the caller's ConfigureServices) wins.
                services.AddSingleton<IPreferenceDataValidator>(new PreferenceImporterValidator());
                // Every owner writes the report of each run that succeeds in it, wherever the run was started.
                services.AddSingleton<RunReportService>();
                services.AddHostedService(sp => sp.GetRequiredService<RunReportService>());
            }
            options.ConfigureServices?.Invoke(services);
        },
    };
}
