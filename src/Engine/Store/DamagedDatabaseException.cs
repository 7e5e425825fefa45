namespace PostTrain.Engine.Store;

/// <summary>A home's <c>posttrain.db</c> is truncated or corrupt: it was refused, not opened, and nothing was changed.</summary>
public sealed class DamagedDatabaseException(PostTrainHome home, string problem, Exception? inner = null) : Exception(
    $"{home.DatabasePath}: the database is damaged: {problem}. It was not opened and nothing was changed. " +
    $"Run 'posttrain doctor --repair --home {home.Root}' to set it aside and rebuild the run history from {home.RunsDirectory}/*.json.", inner);
