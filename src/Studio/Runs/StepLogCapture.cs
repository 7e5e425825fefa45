using Microsoft.Extensions.Logging;

namespace PostTrain.Studio.Runs;

/// <summary>
/// A logger provider that copies log lines written inside a scope carrying <c>RunId</c> and <c>StepPath</c>
/// (e.g. <c>logger.BeginScope(new Dictionary&lt;string, object&gt; { ["RunId"] = id, ["StepPath"] = path })</c>)
/// into the <see cref="StepJournal"/>, so activity logs appear under their step.
/// </summary>
public sealed class StepLogCapture(StepJournal journal) : ILoggerProvider, ISupportExternalScope
{
    private IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

    public void Dispose() { }

    private sealed class Logger(StepLogCapture owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => owner._scopes.Push(state);

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel)) return;
            Guid? run = null;
            string? path = null;
            owner._scopes.ForEachScope((scope, _) =>
            {
                if (scope is not IEnumerable<KeyValuePair<string, object?>> pairs) return;
                foreach (var (k, v) in pairs)
                {
                    if (k == "RunId" && v is Guid g) run = g;
                    else if (k == "RunId" && Guid.TryParse(v?.ToString(), out var parsed)) run = parsed;
                    else if (k == "StepPath" && v is not null) path = v.ToString();
                }
            }, 0);
            if (run is not { } r || path is null) return;
            var text = formatter(state, exception) + (exception is null ? "" : $" ({exception.GetType().Name}: {exception.Message})");
            var level = logLevel switch { >= LogLevel.Error => "error", LogLevel.Warning => "warn", _ => "info" };
            owner.Journal.Add(r, path, level, $"[{category.Split('.')[^1]}] {text}");
        }
    }

    private StepJournal Journal => journal;
}
