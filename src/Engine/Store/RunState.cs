namespace PostTrain.Engine.Store;

public enum RunState { Queued, Running, Succeeded, Failed, Cancelled }
