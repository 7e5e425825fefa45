namespace PostTrain.Engine.Triggers;

/// <summary>
/// A message that may start workflows: the event name a definition binds in <c>triggers</c>, the payload fields a
/// binding may map to parameters (field → port type), and the MassTransit consumer the engine runs on its trigger
/// queue. The application declares these; the engine only validates bindings and wires the consumers.
/// </summary>
public sealed record TriggerRegistration(string Event, IReadOnlyDictionary<string, string> Payload, Type Consumer);
