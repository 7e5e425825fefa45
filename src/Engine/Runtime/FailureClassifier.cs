using System.Text.Json;

namespace PostTrain.Engine.Runtime;

/// <summary>
/// Which failures a retry can cure. Deterministic ones (a bad argument, a malformed value, failed validation, data
/// that is not what it claims to be) fail the step at once with the reason: the same inputs would fail the same way.
/// Everything else (I/O, the broker, a lost worker, anything unknown) is transient and retried with backoff.
/// </summary>
public static class FailureClassifier
{
    public static bool IsDeterministic(Exception error) => error switch
    {
        AggregateException { InnerExceptions.Count: 1 } a => IsDeterministic(a.InnerExceptions[0]),
        ArgumentException or FormatException or InvalidDataException or JsonException or FluentValidation.ValidationException => true,
        _ => false,
    };
}
