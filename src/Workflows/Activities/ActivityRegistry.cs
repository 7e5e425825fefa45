using System.Reflection;

namespace PostTrain.Workflows.Activities;

/// <summary>The activity types a process knows, found by scanning assemblies for <see cref="ActivityAttribute"/> classes.</summary>
public sealed class ActivityRegistry
{
    private readonly Dictionary<string, ActivityDescriptor> _byType = new(StringComparer.Ordinal);

    public ActivityRegistry(IEnumerable<Assembly> assemblies)
    {
        foreach (var a in assemblies.Distinct()) Scan(a);
    }

    /// <summary>The activities of PostTrain.Workflows itself (including Activities/Stages).</summary>
    public static ActivityRegistry Default(params Assembly[] more) => new([typeof(ActivityRegistry).Assembly, .. more]);

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
