namespace PostTrain.Workflows.Store;

public enum RunState { Queued, Running, Succeeded, Failed, Cancelled }
