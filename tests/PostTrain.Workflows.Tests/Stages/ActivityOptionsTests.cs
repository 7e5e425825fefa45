using System.Reflection;
using System.Text.Json;
using PostTrain.Engine.Activities;

namespace PostTrain.Workflows.Tests.Stages;

/// <summary>The options records are the one declaration of every parameter: an activity input that stands for an option
/// shows the option's default and doc, and no activity carries a literal of its own for it.</summary>
public sealed class ActivityOptionsTests
{
    public static TheoryData<string> OptionInputs()
    {
        var data = new TheoryData<string>();
        foreach (var (activity, input) in Mapped()) data.Add($"{activity.Name}.{input.Name}");
        return data;
    }

    [Theory]
    [MemberData(nameof(OptionInputs))]
    public void OptionInput_HasTheOptionsDefaultAndDoc(string name)
    {
        var (activity, input) = Mapped().Single(m => $"{m.Activity.Name}.{m.Input.Name}" == name);
        var oa = input.GetCustomAttribute<OptionAttribute>()!;
        var option = oa.Options.GetProperty(oa.Property ?? input.Name)!;
        var optionDefault = option.GetValue(Activator.CreateInstance(oa.Options));
        var inputDefault = input.GetValue(Activator.CreateInstance(input.DeclaringType!));
        if (optionDefault is Enum e) Assert.Equal(e.ToString(), inputDefault);
        else Assert.Equal(JsonSerializer.Serialize(optionDefault, ActivityJson.Options), JsonSerializer.Serialize(inputDefault, ActivityJson.Options));

        var port = ActivityDescriptorFactory.Create(activity).Inputs.Single(p => p.Name == ActivityJson.Name(input.Name));
        var doc = OptionDocs.Summary(option);
        Assert.False(string.IsNullOrWhiteSpace(doc), $"{oa.Options.Name}.{option.Name} has no doc comment in {oa.Options.Assembly.GetName().Name}.xml");
        Assert.Equal(doc, port.Description);
        Assert.Equal(JsonSerializer.Serialize(inputDefault, ActivityJson.Options), port.Default?.ToJsonString() ?? "null");
    }

    [Fact]
    public void EveryTrainingAndSamplingActivity_TakesItsParametersFromOptionsRecords()
    {
        var types = Mapped().Select(m => m.Activity.Name).Distinct().ToHashSet();
        foreach (var t in new[] { "TrainRewardModelActivity", "SftActivity", "DpoActivity", "PrepareDpoActivity", "SampleActivity", "AnnotatePreferencesActivity", "ScoreAndRejectActivity" })
            Assert.Contains(t, types);
    }

    [Fact]
    public void OptionDocs_RendersCrefsAndInheritdoc()
    {
        // AdamBeta2's doc is <inheritdoc cref="AdamBeta1"/>: it reads AdamBeta1's text.
        var beta2 = OptionDocs.Summary(typeof(RewardModel.RewardModelOptions).GetProperty(nameof(RewardModel.RewardModelOptions.AdamBeta2))!);
        Assert.Equal(OptionDocs.Summary(typeof(RewardModel.RewardModelOptions).GetProperty(nameof(RewardModel.RewardModelOptions.AdamBeta1))!), beta2);
        // An inherited option is documented where it is declared (TrainerOptions), and a <see cref> reads as Type.Member.
        var epochs = OptionDocs.Summary(typeof(Trainers.Sft.SftOptions).GetProperty(nameof(Trainers.Sft.SftOptions.PackingBlockSize))!);
        Assert.Contains("TrainerOptions.MaxLength", epochs);
        Assert.StartsWith("int, default 1.", OptionDocs.Summary(typeof(Trainers.Dpo.DpoOptions).GetProperty(nameof(Trainers.Dpo.DpoOptions.Epochs))!));
    }

    private static IEnumerable<(Type Activity, PropertyInfo Input)> Mapped() =>
        from activity in typeof(PostTrainApplication).Assembly.GetTypes()
        where activity.GetCustomAttribute<ActivityAttribute>() is not null && typeof(ActivityBase).IsAssignableFrom(activity)
        let inputType = InputsOf(activity)
        from input in inputType.GetProperties()
        where input.GetCustomAttribute<OptionAttribute>() is not null
        select (activity, input);

    private static Type InputsOf(Type activity)
    {
        for (var t = activity; t is not null; t = t.BaseType)
            if (t.IsGenericType && t.GetGenericTypeDefinition() == typeof(Activity<,>)) return t.GetGenericArguments()[0];
        throw new ArgumentException($"{activity.Name} is not an Activity<TInput, TOutput>");
    }
}
