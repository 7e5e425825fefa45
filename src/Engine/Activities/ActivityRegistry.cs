using System.Reflection;

namespace PostTrain.Engine.Activities;

/// <summary>
/// What a process knows: the activity types (found by scanning assemblies for <see cref="ActivityAttribute"/> classes)
/// and the trigger events a workflow may bind, each with its payload fields. The engine knows neither list itself; the
/// application (PostTrain.Workflows) fills both.
/// </summary>
public sealed class ActivityRegistry
{
    private readonly Dictionary<string, ActivityDescriptor> _byType = new(StringComparer.Ordinal);
    private readonly Dictionary<string, IReadOnlyDictionary<string, string>> _triggers = new(StringComparer.Ordinal);

    public ActivityRegistry(IEnumerable<Assembly> assemblies)
    {
        foreach (var a in assemblies.Distinct()) Scan(a);
    }

    /// <summary>The engine's built-in activities (Activities/Builtin) plus those of <paramref name="more"/>.</summary>
    public static ActivityRegistry Default(params Assembly[] more) => new([typeof(ActivityRegistry).Assembly, .. more]);

    /// <summary>Trigger events a workflow may bind in <c>triggers</c>: event name → payload field → port type.</summary>
    public IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> Triggers => _triggers;

    /// <summary>Declares a trigger event and the payload fields a binding may map to parameters.</summary>
    public ActivityRegistry RegisterTrigger(string eventName, IReadOnlyDictionary<string, string> payload)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(eventName);
        _triggers[eventName] = payload;
        return this;
    }

    public IReadOnlyCollection<ActivityDescriptor> Descriptors => _byType.Values.OrderBy(d => d.Category).ThenBy(d => d.Type).ToList();

    public void Scan(Assembly assembly)
    {
        Type[] types;
        try { types = assembly.GetTypes(); }
        catch (ReflectionTypeLoadException e) { types = [.. e.Types.OfType<Type>()]; }
        foreach (var t in types)
            if (t is { IsAbstract: false, IsClass: true } && typeof(ActivityBase).IsAssignableFrom(t) && t.GetCustomAttribute<ActivityAttribute>() is not null)
                Register(t);
    }

    public void Register(Type activityType)
    {
        var d = ActivityDescriptorFactory.Create(activityType);
        if (Definitions.ActivityNodeTypes.IsReserved(d.Type))
            throw new ArgumentException($"{activityType.FullName}: activity type '{d.Type}' is reserved for containers");
        if (_byType.TryGetValue(d.Type, out var existing) && existing.ClrType != activityType)
            throw new ArgumentException($"activity type '{d.Type}' is declared twice: {existing.ClrType.FullName} and {activityType.FullName}");
        _byType[d.Type] = d;
    }

    public bool TryGet(string type, out ActivityDescriptor descriptor) => _byType.TryGetValue(type, out descriptor!);

    public ActivityDescriptor Get(string type) => TryGet(type, out var d) ? d
        : throw new KeyNotFoundException($"unknown activity type '{type}'; known: {string.Join(", ", _byType.Keys.Order())}");

    public ActivityBase Create(string type) => (ActivityBase)Activator.CreateInstance(Get(type).ClrType)!;
}
