using System.Net.Sockets;

namespace PostTrain.Engine.Tests.Support;

/// <summary>
/// A fact that needs a RabbitMQ broker: POSTTRAIN_TEST_RABBITMQ (set by build/test.sh), else one answering on
/// 127.0.0.1:5672 (start it with build/rabbitmq.sh). Skipped, saying why, when there is none.
/// </summary>
public sealed class RabbitMqFactAttribute : FactAttribute
{
    public static readonly string? Uri = Environment.GetEnvironmentVariable("POSTTRAIN_TEST_RABBITMQ") is { Length: > 0 } env ? env
        : Answers() ? "rabbitmq://127.0.0.1" : null;

    public RabbitMqFactAttribute()
    {
        if (Uri is null) Skip = "needs RabbitMQ: set POSTTRAIN_TEST_RABBITMQ or start one on 127.0.0.1:5672 (build/rabbitmq.sh)";
    }

    private static bool Answers()
    {
        try
        {
            using var client = new TcpClient();
            return client.ConnectAsync("127.0.0.1", 5672).Wait(2000) && client.Connected;
        }
        catch (Exception e) when (e is SocketException or AggregateException) { return false; }
    }
}
