namespace PostTrain.Engine.Runtime;

/// <summary>
/// How long one send or publish may wait (for the connection and the broker's publisher confirm) before it fails.
/// RabbitMQ.Client puts no timeout on a confirm, and one can wait forever across a broker restart
/// (rabbitmq-dotnet-client#1930): an engine or worker blocked there holds its command and reports nothing.
/// </summary>
internal static class PublishDeadline
{
    public static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);

    /// <summary>A token cancelled by <paramref name="cancellationToken"/> or after <see cref="Limit"/>.</summary>
    public static CancellationTokenSource Start(CancellationToken cancellationToken)
    {
        var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(Limit);
        return cts;
    }
}
