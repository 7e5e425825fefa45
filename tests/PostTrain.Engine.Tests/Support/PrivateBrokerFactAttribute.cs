namespace PostTrain.Engine.Tests.Support;

/// <summary>A fact that starts a <see cref="PrivateBroker"/> node; skipped, saying why, where one cannot be started.</summary>
public sealed class PrivateBrokerFactAttribute : FactAttribute
{
    public PrivateBrokerFactAttribute()
    {
        if (PrivateBroker.Unavailable is { } why) Skip = "private RabbitMQ node test skipped: " + why;
    }
}
