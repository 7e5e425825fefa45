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
                var option = OptionOf(activityType, p);
                var range = option?.GetCustomAttribute<RangeAttribute>() ?? p.GetCustomAttribute<RangeAttribute>();
                return new PortDescriptor
                {
                    Name = ActivityJson.Name(p.Name),
                    Type = Definitions.PortTypes.FromClr(p.PropertyType),
                    Description = option is not null ? OptionDocs.Summary(option) : ia?.Description ?? "",
                    Required = ia?.Required ?? false,
                    Default = ia?.Required == true ? null : JsonSerializer.SerializeToNode(value, p.PropertyType, ActivityJson.Options),
                    Allowed = (Nullable.GetUnderlyingType(p.PropertyType) ?? p.PropertyType) is { IsEnum: true } e
                        ? [.. Enum.GetNames(e).Select(ActivityJson.Name)] : null,
                    Min = Bound(ia?.Min, range?.Minimum),
                    Max = Bound(ia?.Max, range?.Maximum),
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

    /// <summary>
    /// The options-record property an <see cref="OptionAttribute"/> input stands for, after checking that the input's
    /// initial value is the record's default (a string input may stand for an enum option by name), so no activity can
    /// quietly declare a parameter a second time with another default.
    /// </summary>
    public static PropertyInfo? OptionOf(Type activityType, PropertyInfo input)
    {
        if (input.GetCustomAttribute<OptionAttribute>() is not { } oa) return null;
        var where = $"{activityType.Name}.Inputs.{input.Name}";
        if (input.GetCustomAttribute<InputAttribute>() is not null)
            throw new InvalidOperationException($"{where}: has both [Input] and [Option]; an option input takes its description from {oa.Options.Name}");
        var option = oa.Options.GetProperty(oa.Property ?? input.Name, BindingFlags.Public | BindingFlags.Instance)
            ?? throw new InvalidOperationException($"{where}: {oa.Options.Name} has no public property {oa.Property ?? input.Name}");
        var optionDefault = option.GetValue(Activator.CreateInstance(oa.Options));
        var inputDefault = input.GetValue(Activator.CreateInstance(input.DeclaringType!));
        if (!SameDefault(inputDefault, optionDefault))
            throw new InvalidOperationException($"{where}: default is {Show(inputDefault)} but {oa.Options.Name}.{option.Name}'s is {Show(optionDefault)}; initialise it from the options record");
        return option;
    }

    private static bool SameDefault(object? input, object? option) =>
        input is string s && option is Enum e ? string.Equals(s, e.ToString(), StringComparison.OrdinalIgnoreCase)
        : Equals(input, option) || input is not null && option is not null && JsonNode.DeepEquals(
            JsonSerializer.SerializeToNode(input, ActivityJson.Options), JsonSerializer.SerializeToNode(option, ActivityJson.Options));

    private static string Show(object? value) => value is null ? "null" : JsonSerializer.Serialize(value, ActivityJson.Options);

    /// <summary>The input attribute's bound, else a <c>[Range]</c>'s (as the options records may declare them).</summary>
    private static double? Bound(double? fromInput, object? fromRange) =>
        fromInput is { } v && !double.IsNaN(v) ? v
        : fromRange is IConvertible c ? Convert.ToDouble(c, System.Globalization.CultureInfo.InvariantCulture)
        : null;

    private static IEnumerable<PropertyInfo> Properties(Type t) =>
        t.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanRead && p.GetIndexParameters().Length == 0).OrderBy(p => p.MetadataToken);
}
