using PostTrain.Engine.Activities;

namespace PostTrain.Engine.Tests;

/// <summary>An <see cref="OptionAttribute"/> input may not carry a default of its own.</summary>
public sealed class OptionInputTests
{
    public sealed record StepOptions
    {
        public double LearningRate { get; init; } = 1e-5;
        public int BatchSize { get; init; } = 8;
    }

    // All three abstract, so the registries that scan this assembly skip them (two are wrong on purpose).
    [Activity("OptionsAgree", Category = "Test")]
    public abstract class Agrees : Activity<Agrees.Inputs, Agrees.Outputs>
    {
        public sealed class Inputs
        {
            private static readonly StepOptions Defaults = new();
            [Option(typeof(StepOptions))] public double LearningRate { get; init; } = Defaults.LearningRate;
            [Option(typeof(StepOptions), nameof(StepOptions.BatchSize))] public int Rows { get; init; } = Defaults.BatchSize;
        }
        public sealed class Outputs { [Output] public int Rows { get; init; } }
    }

    [Activity("OptionsDiverge", Category = "Test")]
    public abstract class Diverges : Activity<Diverges.Inputs, Diverges.Outputs>
    {
        public sealed class Inputs
        {
            [Option(typeof(StepOptions))] public double LearningRate { get; init; } = 2e-5;
        }
        public sealed class Outputs { [Output] public int Rows { get; init; } }
    }

    [Activity("OptionsMissing", Category = "Test")]
    public abstract class Misnamed : Activity<Misnamed.Inputs, Misnamed.Outputs>
    {
        public sealed class Inputs
        {
            [Option(typeof(StepOptions))] public double Lr { get; init; } = 1e-5;
        }
        public sealed class Outputs { [Output] public int Rows { get; init; } }
    }

    [Fact]
    public void InputsThatAgree_ShowTheOptionsDefaults()
    {
        var d = ActivityDescriptorFactory.Create(typeof(Agrees));
        Assert.Equal("0.00001", d.Inputs.Single(p => p.Name == "learningRate").Default!.ToJsonString().Replace("1E-05", "0.00001"));
        Assert.Equal("8", d.Inputs.Single(p => p.Name == "rows").Default!.ToJsonString());
    }

    [Fact]
    public void AnInputWithItsOwnDefault_IsRefused_NamingBothValues()
    {
        var e = Assert.Throws<InvalidOperationException>(() => ActivityDescriptorFactory.Create(typeof(Diverges)));
        Assert.Contains("Diverges.Inputs.LearningRate", e.Message);
        Assert.Contains("StepOptions.LearningRate", e.Message);
        Assert.Contains("2E-05", e.Message);
    }

    [Fact]
    public void AnInputNamingNoOption_IsRefused()
    {
        var e = Assert.Throws<InvalidOperationException>(() => ActivityDescriptorFactory.Create(typeof(Misnamed)));
        Assert.Contains("StepOptions has no public property Lr", e.Message);
    }
}
