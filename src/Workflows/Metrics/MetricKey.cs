namespace PostTrain.Workflows.Metrics;

/// <summary>One entry of <see cref="MetricKeys.All"/>: <paramref name="Key"/> ends in <c>/</c> when it is a prefix.</summary>
public sealed record MetricKey(string Stage, string Name, string Key)
{
    public bool IsPrefix => Key.EndsWith('/');
}
