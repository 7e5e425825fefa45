namespace PostTrain.Engine.Store;

/// <summary>pending → dispatched → running → done / failed / retrying (→ dispatched) / cancelled.</summary>
public enum StepState { Pending, Dispatched, Running, Done, Failed, Retrying, Cancelled }
