using System.ComponentModel.DataAnnotations;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace PostTrain.Engine.Activities;

/// <summary>Builds an <see cref="ActivityDescriptor"/> from an activity class by reflection, so forms and validation follow the code.</summary>
public static class ActivityDescriptorFactory
{
    public static ActivityDescriptor Create(Type activityType)
    {
        var attr = activityType.GetCustomAttribute<ActivityAttribute>()
            ?? throw new ArgumentException($"{activityType.FullName} has no [Activity(\"Type\")] attribute");
        var baseType = activityType;
        while (baseType is not null && !(baseType.IsGenericType && baseType.GetGenericTypeDefinition() == typeof(Activity<,>)))
            baseType = baseType.BaseType;
        if (baseType is null) throw new ArgumentException($"{activityType.FullName} does not derive from Activity<TInput, TOutput>");
        var (inputType, outputType) = (baseType.GetGenericArguments()[0], baseType.GetGenericArguments()[1]);
        var defaults = Activator.CreateInstance(inputType);
        return new ActivityDescriptor
        {
            Type = attr.Type,
            Category = attr.Category,
            Description = attr.Description,
            Pool = attr.Pool,
            ClrType = activityType,
            Inputs = [.. Properties(inputType).Select(p =>
            {
                var ia = p.GetCustomAttribute<InputAttribute>();
                var value = p.GetValue(defaults);
                return new PortDescriptor
                {
                    Name = ActivityJson.Name(p.Name),
                    Type = Definitions.PortTypes.FromClr(p.PropertyType),
                    Description = ia?.Description ?? "",
                    Required = ia?.Required ?? false,
                    Default = ia?.Required == true ? null : JsonSerializer.SerializeToNode(value, p.PropertyType, ActivityJson.Options),
                    Allowed = (Nullable.GetUnderlyingType(p.PropertyType) ?? p.PropertyType) is { IsEnum: true } e
                        ? [.. Enum.GetNames(e).Select(ActivityJson.Name)] : null,
                    Min = Bound(ia?.Min, p.GetCustomAttribute<RangeAttribute>()?.Minimum),
                    Max = Bound(ia?.Max, p.GetCustomAttribute<RangeAttribute>()?.Maximum),
                };
            })],
            Outputs = [.. Properties(outputType).Select(p => new PortDescriptor
            {
                Name = ActivityJson.Name(p.Name),
                Type = Definitions.PortTypes.FromClr(p.PropertyType),
                Description = p.GetCustomAttribute<OutputAttribute>()?.Description ?? "",
            })],
        };
    }

    /// <summary>The input attribute's bound, else a <c>[Range]</c>'s (as the options records may declare them).</summary>
    private static double? Bound(double? fromInput, object? fromRange) =>
        fromInput is { } v && !double.IsNaN(v) ? v
        : fromRange is IConvertible c ? Convert.ToDouble(c, System.Globalization.CultureInfo.InvariantCulture)
        : null;

    private static IEnumerable<PropertyInfo> Properties(Type t) =>
        t.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanRead && p.GetIndexParameters().Length == 0).OrderBy(p => p.MetadataToken);
}
