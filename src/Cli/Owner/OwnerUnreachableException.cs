namespace PostTrain.Cli.Owner;

/// <summary>The home's owner stopped answering (it exited or was killed); its runs keep their finished steps.</summary>
public sealed class OwnerUnreachableException(string message, Exception inner) : Exception(message, inner);
