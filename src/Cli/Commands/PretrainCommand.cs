using System.CommandLine;
using System.Globalization;
using PostTrain.Core.Progress;
using PostTrain.Pretrain;
using PostTrain.Cli.Rendering;
using Spectre.Console;

namespace PostTrain.Cli.Commands;

/// <summary><c>posttrain pretrain</c>: pretrains a LLaMA on the embedded task corpus or the user's text.</summary>
public static class PretrainCommand
{
    public static Command Create()
    {
        var defaults = new PretrainOptions();
        var preset = new Option<string>("--preset") { Description = "Network preset: tiny | small | medium", DefaultValueFactory = _ => defaults.Preset };
        var output = new Option<string?>("--out") { Description = $"Output directory (checkpoints/ and final/); default HOME/pretrain with --home, else {defaults.OutputDir}" };
        var steps = new Option<int?>("--steps") { Description = $"Optimizer steps (default {defaults.Steps})" };
        var device = CliOptions.Device("cpu | cuda | cuda:N", defaults.Device);
        var resume = new Option<bool>("--resume") { Description = "Continue from the newest checkpoint in --out" };
        var seed = new Option<int>("--seed") { Description = "Seed for weights and data order", DefaultValueFactory = _ => defaults.Seed };
        var data = new Option<string[]>("--data") { Description = "Own text: .txt (blank-line-separated documents) or .jsonl (\"text\" field)", AllowMultipleArgumentsPerToken = true };
        var schedule = new Option<string>("--schedule") { Description = "Learning-rate schedule: cosine (Llama 3) | wsd (warmup-stable-decay, MiniCPM)", DefaultValueFactory = _ => defaults.Schedule };
        var decayFraction = new Option<double?>("--decay-fraction") { Description = $"wsd: fraction of the final steps that decay (default: the annealing fraction, {defaults.AnnealFraction})" };
        var annealSft = new Option<string[]>("--anneal-sft") { Description = "SFT JSONL files mixed into the annealing (decay) phase, as MiniCPM does", AllowMultipleArgumentsPerToken = true };
        var annealSftUpsample = new Option<int>("--anneal-sft-upsample") { Description = "Times each --anneal-sft conversation appears in the annealing mix", DefaultValueFactory = _ => defaults.AnnealSftUpsample };
        var command = new Command("pretrain", "Pretrain a LLaMA from scratch (tokenizer, packing, AdamW, annealing, checkpoint averaging)")
        {
            preset, output, steps, device, resume, seed, data, schedule, decayFraction, annealSft, annealSftUpsample,
        };
        command.SetAction((parse, cancellationToken) =>
        {
            var options = defaults with
            {
                Preset = parse.GetValue(preset)!,
                OutputDir = parse.GetValue(output) ?? (CliOptions.HomeGiven(parse) ? Path.Combine(CliOptions.HomeOf(parse).Root, "pretrain") : defaults.OutputDir),
                Device = parse.GetValue(device)!,
                Resume = parse.GetValue(resume),
                Seed = parse.GetValue(seed),
                DataFiles = parse.GetValue(data) ?? [],
                Schedule = parse.GetValue(schedule)!,
                DecayFraction = parse.GetValue(decayFraction),
                AnnealSftFiles = parse.GetValue(annealSft) ?? [],
                AnnealSftUpsample = parse.GetValue(annealSftUpsample),
            };
            if (parse.GetValue(steps) is { } n)
                options = options with { Steps = n, WarmupSteps = Math.Min(options.WarmupSteps, Math.Max(0, n / 10)) };
            return Task.FromResult(Run(options, CliOptions.JsonOf(parse), cancellationToken));
        });
        return command;
    }

    private static int Run(PretrainOptions options, bool json, CancellationToken cancellationToken)
    {
        Pretrainer pretrainer;
        try { pretrainer = new Pretrainer(options); }
        catch (ArgumentException e) { return Fail(2, e.Message); }
        try
        {
            var result = json || !Output.Interactive
                ? pretrainer.Run(new PlainProgress(json ? Console.Error : Console.Out), cancellationToken)
                : RunWithBar(pretrainer, options, cancellationToken);
            if (json)
            {
                Output.WriteJson(result);
                return 0;
            }
            var table = new TextTable("metric", "value");
            table.AddRow("checkpoint", result.CheckpointDir);
            table.AddRow("steps", result.Steps.ToString(CultureInfo.InvariantCulture));
            table.AddRow("train loss (nats/token)", result.TrainLoss.ToString("F4", CultureInfo.InvariantCulture));
            table.AddRow("held-out loss (nats/token)", result.HeldOutLoss.ToString("F4", CultureInfo.InvariantCulture));
            table.AddRow("unigram entropy (nats)", result.UnigramEntropy.ToString("F4", CultureInfo.InvariantCulture));
            table.AddRow("held-out exact match", result.ExactMatch is { } em ? em.ToString("P1", CultureInfo.InvariantCulture) : "n/a (own data)");
            table.AddRow("tokens/s", result.TokensPerSecond.ToString("F0", CultureInfo.InvariantCulture));
            table.AddRow("wall time", result.Elapsed.ToString(@"m\:ss", CultureInfo.InvariantCulture));
            table.Write();
            return 0;
        }
        catch (OperationCanceledException) { return Fail(CliApp.Interrupted, $"interrupted; rerun the same command with --resume to continue from the last checkpoint in {options.OutputDir}"); }
        catch (ArgumentException e) { return Fail(2, e.Message); }
        catch (Exception e) when (e is InvalidDataException or IOException or InvalidOperationException or UnauthorizedAccessException)
        {
            return Fail(1, e.Message);
        }
    }

    private static PretrainResult RunWithBar(Pretrainer pretrainer, PretrainOptions options, CancellationToken cancellationToken)
    {
        PretrainResult? result = null;
        AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask("pretrain", maxValue: options.Steps);
                result = pretrainer.Run(new BarProgress(task), cancellationToken);
                task.Description = "pretrain done";
            });
        return result!;
    }

    private static string Describe(StageProgress p)
    {
        var m = p.Metrics;
        var text = string.Create(CultureInfo.InvariantCulture, $"step {p.Step}/{p.Total} loss {m["loss"]:F3} lr {m["lr"]:E2} {m["tokens_per_s"]:F0} tok/s");
        return m.TryGetValue("heldout_loss", out var h) ? text + string.Create(CultureInfo.InvariantCulture, $" held-out {h:F3}") : text;
    }

    private static int Fail(int code, string message)
    {
        Console.Error.WriteLine($"error: {message}");
        return code;
    }

    /// <summary>Reports on the training thread itself (no SynchronizationContext hop), updating the bar.</summary>
    private sealed class BarProgress(ProgressTask task) : IProgress<StageProgress>
    {
        public void Report(StageProgress value)
        {
            task.Value = value.Step;
            task.Description = Markup.Escape(Describe(value));
        }
    }

    /// <summary>Plain lines for logs and pipes: every 10th step, evaluations and the last step.</summary>
    private sealed class PlainProgress(TextWriter output) : IProgress<StageProgress>
    {
        public void Report(StageProgress value)
        {
            if (value.Step % 10 == 0 || value.Step == value.Total || value.Metrics.ContainsKey("heldout_loss"))
                output.WriteLine(Describe(value));
        }
    }
}
