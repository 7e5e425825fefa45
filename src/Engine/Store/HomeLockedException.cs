namespace PostTrain.Engine.Store;

/// <summary>Another process owns the home's database; this one must not write it.</summary>
public sealed class HomeLockedException(string message) : Exception(message);
