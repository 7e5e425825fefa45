namespace PostTrain.Model.Tokenization;

/// <summary>One turn of a conversation. Role is "system", "user" or "assistant" (see <see cref="ChatTemplate.Roles"/>).</summary>
public sealed record ChatMessage(string Role, string Content)
{
    public static ChatMessage System(string content) => new(ChatTemplate.SystemRole, content);
    public static ChatMessage User(string content) => new(ChatTemplate.UserRole, content);
    public static ChatMessage Assistant(string content) => new(ChatTemplate.AssistantRole, content);
}
