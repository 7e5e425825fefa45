namespace PostTrain.Engine.Store;

/// <summary>
/// <see cref="Interrupted"/>: the owning process was stopped (Ctrl+C) mid-run; not finished, not picked up when an
/// owner starts, continued by <c>posttrain resume</c>.
/// </summary>
public enum RunState { Queued, Running, Succeeded, Failed, Cancelled, Interrupted }
