using PostTrain.Engine.Bus;

namespace PostTrain.Engine.Tests;

public sealed class BusSettingsTests
{
    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("memory")]
    public void Parse_EmptyOrMemory_IsInMemory(string? text) => Assert.True(BusSettings.Parse(text).IsInMemory);

    [Fact]
    public void Parse_RabbitUri_KeepsHostAndVhost()
    {
        var s = BusSettings.Parse("rabbitmq://guest:guest@broker:5673/posttrain");
        Assert.False(s.IsInMemory);
        Assert.Equal("broker", s.RabbitMq!.Host);
        Assert.Equal(5673, s.RabbitMq.Port);
        Assert.Equal("rabbitmq://broker:5673/posttrain", s.ToString()); // no credentials in messages
    }

    [Fact]
    public void Parse_UnknownScheme_SaysWhatIsExpected()
    {
        var e = Assert.Throws<ArgumentException>(() => BusSettings.Parse("kafka://x"));
        Assert.Contains("expected 'memory' or rabbitmq://", e.Message);
    }

    [Fact]
    public void Resolve_OptionBeatsConfiguration() =>
        Assert.Equal("broker", BusSettings.Resolve("rabbitmq://broker", "rabbitmq://other").RabbitMq!.Host);
}
