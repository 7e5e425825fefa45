using System.Collections.Concurrent;
using System.Reflection;
using System.Text;
using System.Xml.Linq;

namespace PostTrain.Engine.Activities;

/// <summary>
/// A property's <c>&lt;summary&gt;</c> from its assembly's XML documentation file, as plain text: the options records'
/// doc comments are the one description of each parameter, so forms and <c>describe</c> read them rather than a copy.
/// </summary>
public static class OptionDocs
{
    private static readonly ConcurrentDictionary<Assembly, IReadOnlyDictionary<string, XElement>> Files = new();

    /// <summary>The summary of <paramref name="property"/> (of the type that declares it), or "" when the documentation file is absent.</summary>
    public static string Summary(PropertyInfo property)
    {
        var declaring = property.DeclaringType ?? throw new ArgumentException($"{property.Name} has no declaring type");
        var members = Members(declaring.Assembly);
        return members.TryGetValue($"P:{Name(declaring)}.{property.Name}", out var member) ? Text(member, declaring, members, depth: 0) : "";
    }

    private static string Text(XElement member, Type declaring, IReadOnlyDictionary<string, XElement> members, int depth)
    {
        if (member.Element("inheritdoc")?.Attribute("cref")?.Value is { } cref && depth < 4)
        {
            var key = cref.Contains(':') ? cref : $"P:{Name(declaring)}.{cref}";
            return members.TryGetValue(key, out var inherited) ? Text(inherited, declaring, members, depth + 1) : "";
        }
        var summary = member.Element("summary");
        if (summary is null) return "";
        var text = new StringBuilder();
        foreach (var node in summary.DescendantNodes())
        {
            if (node is XText t && t.Parent?.Name != "see") text.Append(t.Value);
            else if (node is XElement { Name.LocalName: "see" or "paramref" or "typeparamref" } e && !e.Nodes().Any())
                text.Append(ShortName(e.Attribute("cref")?.Value ?? e.Attribute("name")?.Value ?? e.Attribute("langword")?.Value ?? ""));
            else if (node is XElement { Name.LocalName: "see" } s) text.Append(s.Value);
        }
        return string.Join(' ', text.ToString().Split((char[])[' ', '\n', '\r', '\t'], StringSplitOptions.RemoveEmptyEntries));
    }

    /// <summary>T:Ns.Type → Type; P:Ns.Type.Member → Type.Member (a reader sees which record it is on).</summary>
    private static string ShortName(string cref)
    {
        var (kind, name) = cref.Length > 1 && cref[1] == ':' ? (cref[0], cref[2..]) : ('T', cref);
        if (name.IndexOf('(') is var paren and >= 0) name = name[..paren];
        var parts = name.Split('.');
        return kind == 'T' || parts.Length < 2 ? parts[^1] : $"{parts[^2]}.{parts[^1]}";
    }

    private static string Name(Type type) => (type.FullName ?? type.Name).Replace('+', '.');

    private static IReadOnlyDictionary<string, XElement> Members(Assembly assembly) => Files.GetOrAdd(assembly, a =>
    {
        var path = string.IsNullOrEmpty(a.Location) ? "" : Path.ChangeExtension(a.Location, ".xml");
        if (!File.Exists(path)) return new Dictionary<string, XElement>();
        return XDocument.Load(path).Root?.Element("members")?.Elements("member")
            .Where(m => m.Attribute("name") is not null)
            .GroupBy(m => m.Attribute("name")!.Value).ToDictionary(g => g.Key, g => g.First()) ?? new Dictionary<string, XElement>();
    });
}
