using System.CommandLine;
using PostTrain.Cli.Commands;

namespace PostTrain.Cli;

/// <summary>
/// Every <c>posttrain</c> command, one per file in <c>Commands/</c>, each a static class with <c>Create()</c>.
/// Add a new command here and nowhere else.
/// </summary>
public static class CommandList
{
    public static IReadOnlyList<Func<Command>> All { get; } =
    [
        IterateCommand.Create,
        RunCommand.Create,
        ReportCommand.Create,
        StatusCommand.Create,
        RunsCommand.Create,
        ResumeCommand.Create,
        CancelCommand.Create,
        ValidateCommand.Create,
        ActivitiesCommand.Create,
        HostCommand.Create,
        WorkerCommand.Create,
        DataCommand.Create,
        StudioCommand.Create,
        PretrainCommand.Create,
        GenerateCommand.Create,
        CorpusCommand.Create,
        ModelCommand.Create,
        ExportCommand.Create,
        SftCommand.Create,
        DpoCommand.Create,
        RewardCommand.Create,
        TokenizeCommand.Create,
        DoctorCommand.Create,
        TokenizerCommand.Create,
    ];
}
