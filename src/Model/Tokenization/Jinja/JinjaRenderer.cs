using System.Globalization;
using System.Text;
using static PostTrain.Model.Tokenization.Jinja.JinjaValues;

namespace PostTrain.Model.Tokenization.Jinja;

/// <summary>
/// Evaluates the syntax tree. Scoping follows Jinja: a for-loop body has its own scope (a set inside it is gone after
/// the loop, which is why templates use namespace()), while if-blocks write to the enclosing scope.
/// </summary>
internal sealed class JinjaRenderer
{
    private sealed class Scope(Scope? parent)
    {
        public Dictionary<string, object?> Vars { get; } = new(StringComparer.Ordinal);
        public bool TryGet(string name, out object? value)
        {
            for (var s = this; s is not null; s = s.Parent)
                if (s.Vars.TryGetValue(name, out value)) return true;
            value = null;
            return false;
        }
        public Scope? Parent { get; } = parent;
    }

    private sealed class LoopControl(bool isBreak) : Exception { public bool IsBreak { get; } = isBreak; }

    private readonly string _source;
    private readonly Scope _globals = new(null);
    private int _line;

    public JinjaRenderer(string source, IReadOnlyDictionary<string, object?> variables)
    {
        _source = source;
        _globals.Vars["raise_exception"] = new JinjaFunction("raise_exception", (a, _) =>
            throw new JinjaException($"{_source}: the template raised: {(a.Count > 0 ? Str(a[0]) : "")}"));
        _globals.Vars["namespace"] = new JinjaFunction("namespace", (a, kw) =>
        {
            var ns = new JinjaNamespace();
            foreach (var (k, v) in kw) ns.Values[k] = v;
            return ns;
        });
        _globals.Vars["range"] = new JinjaFunction("range", (a, _) =>
        {
            long start = 0, stop, step = 1;
            if (a.Count == 1) stop = Int(a[0]);
            else { start = Int(a[0]); stop = Int(a[1]); if (a.Count > 2) step = Int(a[2]); }
            if (step == 0) throw Error("range() arg 3 must not be zero");
            var list = new List<object?>();
            for (var i = start; step > 0 ? i < stop : i > stop; i += step) list.Add(i);
            return list;
        });
        _globals.Vars["strftime_now"] = new JinjaFunction("strftime_now", (a, _) => StrFTime(DateTime.Now, a.Count > 0 ? Str(a[0]) : ""));
        var top = new Scope(_globals);
        foreach (var (k, v) in variables) _globals.Vars[k] = v;
        _root = top;
    }

    private readonly Scope _root;

    private JinjaException Error(string message) => new($"{_source}: line {_line}: {message}");

    public string Render(List<Node> nodes)
    {
        var sb = new StringBuilder();
        try { Execute(nodes, _root, sb); }
        catch (LoopControl) { throw Error("'break' or 'continue' outside a loop"); }
        return sb.ToString();
    }

    private void Execute(List<Node> nodes, Scope scope, StringBuilder output)
    {
        foreach (var node in nodes)
        {
            _line = node.Line;
            switch (node)
            {
                case TextNode t: output.Append(t.Text); break;
                case OutputNode o: output.Append(Str(Eval(o.Value, scope))); break;
                case IfNode i:
                {
                    var done = false;
                    foreach (var (test, body) in i.Branches)
                    {
                        if (!Truthy(Eval(test, scope))) continue;
                        Execute(body, scope, output);
                        done = true;
                        break;
                    }
                    if (!done && i.Else is not null) Execute(i.Else, scope, output);
                    break;
                }
                case ForNode f: For(f, scope, output); break;
                case SetNode s:
                {
                    var value = Eval(s.Value, scope);
                    if (s.Attribute is null) { scope.Vars[s.Name] = value; break; }
                    if (!scope.TryGet(s.Name, out var target) || target is not JinjaNamespace ns)
                        throw Error($"cannot assign attribute '{s.Attribute}' on '{s.Name}': it is not a namespace()");
                    ns.Values[s.Attribute] = value;
                    break;
                }
                case LoopControlNode c: throw new LoopControl(c.IsBreak);
            }
        }
    }

    private void For(ForNode f, Scope scope, StringBuilder output)
    {
        var items = Iterate(Eval(f.Iterable, scope));
        if (f.Filter is not null)
        {
            items = items.Where(item =>
            {
                var probe = new Scope(scope);
                Bind(f.Targets, item, probe);
                return Truthy(Eval(f.Filter, probe));
            }).ToList();
        }
        if (items.Count == 0)
        {
            if (f.Else is not null) Execute(f.Else, new Scope(scope), output);
            return;
        }
        for (var i = 0; i < items.Count; i++)
        {
            var body = new Scope(scope);
            Bind(f.Targets, items[i], body);
            var loopIndex = i;
            body.Vars["loop"] = new Dictionary<string, object?>(StringComparer.Ordinal)
            {
                ["index"] = (long)(i + 1), ["index0"] = (long)i, ["first"] = i == 0, ["last"] = i == items.Count - 1,
                ["length"] = (long)items.Count, ["revindex"] = (long)(items.Count - i), ["revindex0"] = (long)(items.Count - i - 1),
                ["previtem"] = i > 0 ? items[i - 1] : Undefined.Instance,
                ["nextitem"] = i + 1 < items.Count ? items[i + 1] : Undefined.Instance,
                ["cycle"] = new JinjaFunction("cycle", (a, _) => a.Count == 0 ? null : a[loopIndex % a.Count]),
            };
            try { Execute(f.Body, body, output); }
            catch (LoopControl c) { if (c.IsBreak) break; }
        }
    }

    private void Bind(List<string> targets, object? item, Scope scope)
    {
        if (targets.Count == 1) { scope.Vars[targets[0]] = item; return; }
        var parts = item as List<object?> ?? throw Error($"cannot unpack {TypeName(item)} into {targets.Count} names");
        if (parts.Count != targets.Count) throw Error($"cannot unpack {parts.Count} values into {targets.Count} names");
        for (var i = 0; i < targets.Count; i++) scope.Vars[targets[i]] = parts[i];
    }

    private List<object?> Iterate(object? v) => v switch
    {
        List<object?> l => [.. l],
        Dictionary<string, object?> d => [.. d.Keys],
        string s => CodePoints(s).Select(c => (object?)c).ToList(),
        Undefined => [],
        _ => throw Error($"'{TypeName(v)}' object is not iterable"),
    };

    private static List<string> CodePoints(string s)
    {
        var list = new List<string>(s.Length);
        for (var i = 0; i < s.Length; i += char.IsSurrogatePair(s, i) ? 2 : 1) list.Add(s.Substring(i, char.IsSurrogatePair(s, i) ? 2 : 1));
        return list;
    }

    // ---- expressions ----

    private object? Eval(Expr e, Scope scope)
    {
        switch (e)
        {
            case LiteralExpr l: return l.Value;
            case NameExpr n: return scope.TryGet(n.Name, out var v) ? v : Undefined.Instance;
            case ListExpr l: return l.Items.Select(i => Eval(i, scope)).ToList();
            case DictExpr d:
            {
                var dict = new Dictionary<string, object?>(StringComparer.Ordinal);
                foreach (var (k, val) in d.Items) dict[Str(Eval(k, scope))] = Eval(val, scope);
                return dict;
            }
            case AttrExpr a: return GetAttr(Eval(a.Target, scope), a.Name);
            case ItemExpr i: return GetItem(Eval(i.Target, scope), Eval(i.Key, scope));
            case SliceExpr s: return Slice(Eval(s.Target, scope), Opt(s.Start, scope), Opt(s.Stop, scope), Opt(s.Step, scope));
            case CallExpr c:
            {
                var fn = Eval(c.Function, scope);
                if (fn is not JinjaFunction f) throw Error($"'{Describe(c.Function)}' is {(fn is Undefined ? "undefined" : $"a {TypeName(fn)}")}, not a function");
                return f.Invoke(c.Args.Select(x => Eval(x, scope)).ToList(), c.Kwargs.ToDictionary(k => k.Name, k => Eval(k.Value, scope)));
            }
            case FilterExpr f: return Filter(f.Name, Eval(f.Value, scope), f.Args.Select(x => Eval(x, scope)).ToList(), f.Kwargs.ToDictionary(k => k.Name, k => Eval(k.Value, scope)));
            case TestExpr t:
            {
                var result = Test(t.Name, Eval(t.Value, scope), t.Args.Select(x => Eval(x, scope)).ToList());
                return t.Negated ? !result : result;
            }
            case UnaryExpr u:
            {
                var value = Eval(u.Operand, scope);
                return u.Op switch
                {
                    "not" => !Truthy(value),
                    _ => value switch { long l => (object)(-l), double d => -d, _ => throw Error($"bad operand type for unary -: '{TypeName(value)}'") },
                };
            }
            case BinaryExpr b: return Binary(b, scope);
            case CondExpr c: return Truthy(Eval(c.Test, scope)) ? Eval(c.Then, scope) : c.Else is null ? Undefined.Instance : Eval(c.Else, scope);
        }
        throw Error($"cannot evaluate {e.GetType().Name}");
    }

    private object? Opt(Expr? e, Scope scope) => e is null ? null : Eval(e, scope);

    private static string Describe(Expr e) => e switch { NameExpr n => n.Name, AttrExpr a => Describe(a.Target) + "." + a.Name, _ => "expression" };

    private object? Binary(BinaryExpr b, Scope scope)
    {
        if (b.Op == "and") { var l = Eval(b.Left, scope); return Truthy(l) ? Eval(b.Right, scope) : l; }
        if (b.Op == "or") { var l = Eval(b.Left, scope); return Truthy(l) ? l : Eval(b.Right, scope); }
        var left = Eval(b.Left, scope);
        var right = Eval(b.Right, scope);
        var where = $"{_source}: line {_line}";
        switch (b.Op)
        {
            case "==": return JinjaValues.Equals(left, right);
            case "!=": return !JinjaValues.Equals(left, right);
            case "<": return Compare(left, right, where) < 0;
            case ">": return Compare(left, right, where) > 0;
            case "<=": return Compare(left, right, where) <= 0;
            case ">=": return Compare(left, right, where) >= 0;
            case "in": return Contains(right, left);
            case "not in": return !Contains(right, left);
            case "~": return Str(left) + Str(right);
        }
        if (left is Undefined || right is Undefined) throw Error($"an undefined value is used with '{b.Op}'");
        switch (b.Op, left, right)
        {
            case ("+", string x, string y): return x + y;
            case ("+", List<object?> x, List<object?> y): return x.Concat(y).ToList();
            case ("*", string x, long n): return string.Concat(Enumerable.Repeat(x, (int)Math.Max(0, n)));
            case ("*", List<object?> x, long n): return Enumerable.Repeat(x, (int)Math.Max(0, n)).SelectMany(r => r).ToList();
        }
        if (!IsNumber(left) || !IsNumber(right))
            throw Error($"unsupported operand type(s) for {b.Op}: '{TypeName(left)}' and '{TypeName(right)}'");
        if (left is not double && right is not double && b.Op != "/")
        {
            long x = left is bool bl ? (bl ? 1 : 0) : (long)left!, y = right is bool br ? (br ? 1 : 0) : (long)right!;
            return b.Op switch
            {
                "+" => x + y,
                "-" => x - y,
                "*" => x * y,
                "//" => y == 0 ? throw Error("integer division by zero") : (long)Math.Floor((double)x / y),
                "%" => y == 0 ? throw Error("integer modulo by zero") : ((x % y) + y) % y,
                "**" => y >= 0 ? (object)(long)Math.Pow(x, y) : Math.Pow(x, y),
                _ => throw Error($"unknown operator {b.Op}"),
            };
        }
        double p = ToDouble(left), q = ToDouble(right);
        return b.Op switch
        {
            "+" => p + q,
            "-" => p - q,
            "*" => p * q,
            "/" => q == 0 ? throw Error("division by zero") : p / q,
            "//" => Math.Floor(p / q),
            "%" => p - q * Math.Floor(p / q),
            "**" => Math.Pow(p, q),
            _ => throw Error($"unknown operator {b.Op}"),
        };
    }

    private bool Contains(object? container, object? item) => container switch
    {
        string s => item is string sub ? s.Contains(sub, StringComparison.Ordinal) : throw Error($"'in <string>' requires string as left operand, not {TypeName(item)}"),
        List<object?> l => l.Any(x => JinjaValues.Equals(x, item)),
        Dictionary<string, object?> d => item is string k && d.ContainsKey(k),
        Undefined => throw Error("'in' on an undefined value"),
        _ => throw Error($"argument of type '{TypeName(container)}' is not iterable"),
    };

    private object? GetAttr(object? target, string name)
    {
        switch (target)
        {
            case Undefined: throw Error($"an undefined value has no attribute '{name}'");
            case JinjaNamespace ns: return ns.Values.TryGetValue(name, out var v) ? v : Undefined.Instance;
            case string s: return StringMethod(s, name) ?? (object)Undefined.Instance;
            case Dictionary<string, object?> d:
                // Jinja's getattr tries the Python attribute first: message.items is the method, message.content the key.
                return DictMethod(d, name) ?? (d.TryGetValue(name, out var value) ? value : Undefined.Instance);
            default: return Undefined.Instance;
        }
    }

    private object? GetItem(object? target, object? key)
    {
        switch (target, key)
        {
            case (Undefined, _): throw Error($"an undefined value has no item {Repr(key)}");
            case (Dictionary<string, object?> d, string k): return d.TryGetValue(k, out var v) ? v : (object?)DictMethod(d, k) ?? Undefined.Instance;
            case (List<object?> l, long i): { var j = i < 0 ? l.Count + i : i; return j >= 0 && j < l.Count ? l[(int)j] : Undefined.Instance; }
            case (string s, long i): { var cps = CodePoints(s); var j = i < 0 ? cps.Count + i : i; return j >= 0 && j < cps.Count ? cps[(int)j] : Undefined.Instance; }
            case (JinjaNamespace ns, string k): return ns.Values.TryGetValue(k, out var nv) ? nv : Undefined.Instance;
            case (string s, string k): return StringMethod(s, k) ?? (object)Undefined.Instance;
            default: return Undefined.Instance;
        }
    }

    private object? Slice(object? target, object? start, object? stop, object? step)
    {
        long? Idx(object? o) => o switch { null => null, long l => l, bool b => b ? 1 : 0, _ => throw Error($"slice indices must be integers or None, not {TypeName(o)}") };
        var st = Idx(step) ?? 1;
        if (st == 0) throw Error("slice step cannot be zero");
        List<object?> items = target switch
        {
            List<object?> l => l,
            string s => CodePoints(s).Select(c => (object?)c).ToList(),
            Undefined => throw Error("an undefined value cannot be sliced"),
            _ => throw Error($"'{TypeName(target)}' object is not subscriptable"),
        };
        long n = items.Count;
        long Clamp(long? i, long dflt, long lo, long hi)
        {
            if (i is null) return dflt;
            var v = i.Value < 0 ? i.Value + n : i.Value;
            return Math.Clamp(v, lo, hi);
        }
        var result = new List<object?>();
        if (st > 0)
        {
            long a = Clamp(Idx(start), 0, 0, n), z = Clamp(Idx(stop), n, 0, n);
            for (var i = a; i < z; i += st) result.Add(items[(int)i]);
        }
        else
        {
            long a = Clamp(Idx(start), n - 1, -1, n - 1), z = Clamp(Idx(stop), -1, -1, n - 1);
            for (var i = a; i > z; i += st) result.Add(items[(int)i]);
        }
        return target is string ? string.Concat(result.Select(c => (string)c!)) : result;
    }

    private long Int(object? v) => v switch
    {
        long l => l,
        bool b => b ? 1 : 0,
        double d => (long)d,
        _ => throw Error($"expected an integer, found {TypeName(v)}"),
    };

    private JinjaFunction? StringMethod(string s, string name)
    {
        string? Chars(List<object?> a) => a.Count > 0 && a[0] is string c ? c : null;
        bool Affix(List<object?> a, Func<string, bool> test) => a.Count > 0 && a[0] switch
        {
            string p => test(p),
            List<object?> options => options.OfType<string>().Any(test),
            _ => throw Error($"startswith/endswith takes a string or a tuple of strings, not {TypeName(a[0])}"),
        };
        return name switch
        {
            "strip" => new(name, (a, _) => Strip(s, Chars(a), true, true)),
            "lstrip" => new(name, (a, _) => Strip(s, Chars(a), true, false)),
            "rstrip" => new(name, (a, _) => Strip(s, Chars(a), false, true)),
            "upper" => new(name, (_, _) => s.ToUpperInvariant()),
            "lower" => new(name, (_, _) => s.ToLowerInvariant()),
            "title" => new(name, (_, _) => PyTitle(s)),
            "capitalize" => new(name, (_, _) => Capitalize(s)),
            "startswith" => new(name, (a, _) => Affix(a, p => s.StartsWith(p, StringComparison.Ordinal))),
            "endswith" => new(name, (a, _) => Affix(a, p => s.EndsWith(p, StringComparison.Ordinal))),
            "split" => new(name, (a, kw) => Split(s, a.Count > 0 ? a[0] : kw.GetValueOrDefault("sep"), a.Count > 1 ? Int(a[1]) : kw.TryGetValue("maxsplit", out var m) ? Int(m) : -1)),
            "replace" => new(name, (a, _) => a.Count >= 2 && a[0] is string o && a[1] is string r
                ? (a.Count > 2 ? ReplaceCount(s, o, r, Int(a[2])) : s.Replace(o, r, StringComparison.Ordinal))
                : throw Error("replace() takes two strings")),
            "find" => new(name, (a, _) => (long)(a.Count > 0 && a[0] is string p ? s.IndexOf(p, StringComparison.Ordinal) : -1)),
            "count" => new(name, (a, _) => (long)(a.Count > 0 && a[0] is string p && p.Length > 0 ? (s.Length - s.Replace(p, "", StringComparison.Ordinal).Length) / p.Length : 0)),
            "join" => new(name, (a, _) => string.Join(s, Iterate(a.Count > 0 ? a[0] : null).Select(Str))),
            "isdigit" => new(name, (_, _) => s.Length > 0 && s.All(char.IsDigit)),
            "isspace" => new(name, (_, _) => s.Length > 0 && s.All(IsSpace)),
            _ => null,
        };
    }

    private static string ReplaceCount(string s, string old, string replacement, long count)
    {
        if (count < 0) return s.Replace(old, replacement, StringComparison.Ordinal);
        var sb = new StringBuilder();
        var pos = 0;
        for (var done = 0L; done < count; done++)
        {
            var i = s.IndexOf(old, pos, StringComparison.Ordinal);
            if (i < 0 || old.Length == 0) break;
            sb.Append(s, pos, i - pos).Append(replacement);
            pos = i + old.Length;
        }
        return sb.Append(s, pos, s.Length - pos).ToString();
    }

    private List<object?> Split(string s, object? sep, long maxSplit)
    {
        var parts = new List<object?>();
        if (sep is null or Undefined)
        {
            // Python's split(): runs of whitespace separate, no empty strings.
            var i = 0;
            while (i < s.Length)
            {
                while (i < s.Length && IsSpace(s[i])) i++;
                if (i >= s.Length) break;
                if (maxSplit >= 0 && parts.Count == maxSplit) { parts.Add(Strip(s[i..], null, false, true)); break; }
                var start = i;
                while (i < s.Length && !IsSpace(s[i])) i++;
                parts.Add(s[start..i]);
            }
            return parts;
        }
        if (sep is not string separator || separator.Length == 0) throw Error("split() separator must be a non-empty string");
        var pos = 0;
        while (maxSplit < 0 || parts.Count < maxSplit)
        {
            var i = s.IndexOf(separator, pos, StringComparison.Ordinal);
            if (i < 0) break;
            parts.Add(s[pos..i]);
            pos = i + separator.Length;
        }
        parts.Add(s[pos..]);
        return parts;
    }

    private static string PyTitle(string s)
    {
        var sb = new StringBuilder(s.Length);
        var previousCased = false;
        foreach (var c in s)
        {
            sb.Append(previousCased ? char.ToLowerInvariant(c) : char.ToUpperInvariant(c));
            previousCased = char.IsLetter(c);
        }
        return sb.ToString();
    }

    private static string Capitalize(string s) => s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..].ToLowerInvariant();

    private static JinjaFunction? DictMethod(Dictionary<string, object?> d, string name) => name switch
    {
        "items" => new(name, (_, _) => d.Select(kv => (object?)new List<object?> { kv.Key, kv.Value }).ToList()),
        "keys" => new(name, (_, _) => d.Keys.Select(k => (object?)k).ToList()),
        "values" => new(name, (_, _) => d.Values.ToList()),
        "get" => new(name, (a, _) => a.Count > 0 && a[0] is string k && d.TryGetValue(k, out var v) ? v : a.Count > 1 ? a[1] : null),
        _ => null,
    };

    // ---- filters and tests ----

    private object? Filter(string name, object? v, List<object?> a, Dictionary<string, object?> kw)
    {
        object? Arg(int i, string key, object? dflt = null) => i >= 0 && i < a.Count ? a[i] : kw.TryGetValue(key, out var x) ? x : dflt;
        switch (name)
        {
            case "trim": return Strip(StrOf(v, name), Arg(0, "chars") as string, true, true);
            case "length" or "count":
                return v switch
                {
                    string s => (long)CodePoints(s).Count,
                    List<object?> l => (long)l.Count,
                    Dictionary<string, object?> d => (long)d.Count,
                    Undefined => 0L,
                    _ => throw Error($"object of type '{TypeName(v)}' has no len()"),
                };
            case "tojson": return ToJson(v is Undefined ? throw Error("tojson of an undefined value") : v, Arg(0, "indent") is long n ? (int)n : null, $"{_source}: line {_line}");
            case "upper": return StrOf(v, name).ToUpperInvariant();
            case "lower": return StrOf(v, name).ToLowerInvariant();
            case "capitalize": return Capitalize(StrOf(v, name));
            case "title": return JinjaTitle(StrOf(v, name));
            case "default" or "d":
                return v is Undefined || (Truthy(Arg(1, "boolean", false)) && !Truthy(v)) ? Arg(0, "default_value", "") : v;
            case "join":
            {
                var attribute = Arg(1, "attribute") as string;
                return string.Join(Arg(0, "d", "") is string sep ? sep : "", Iterate(v).Select(x => Str(attribute is null ? x : GetAttr(x, attribute))));
            }
            case "first": { var l = Iterate(v); return l.Count > 0 ? l[0] : Undefined.Instance; }
            case "last": { var l = Iterate(v); return l.Count > 0 ? l[^1] : Undefined.Instance; }
            case "list": return Iterate(v);
            case "string" or "safe" or "e" or "escape": return name is "e" or "escape" ? Escape(Str(v)) : Str(v);
            case "int":
                return v switch
                {
                    long l => l, bool b => b ? 1L : 0L, double d => (long)d,
                    string s when long.TryParse(s.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var p) => p,
                    _ => Arg(0, "default", 0L),
                };
            case "float":
                return v switch
                {
                    long l => (double)l, double d => d,
                    string s when double.TryParse(s.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var p) => p,
                    _ => Arg(0, "default", 0.0),
                };
            case "abs": return v switch { long l => (object)Math.Abs(l), double d => Math.Abs(d), _ => throw Error($"abs of {TypeName(v)}") };
            case "round": return Math.Round(ToDouble(v), (int)Int(Arg(0, "precision", 0L)), MidpointRounding.ToEven);
            case "replace": return StrOf(v, name).Replace(StrOf(Arg(0, "old"), name), StrOf(Arg(1, "new"), name), StringComparison.Ordinal);
            case "reverse": return v is string rs ? string.Concat(CodePoints(rs).AsEnumerable().Reverse()) : Iterate(v).AsEnumerable().Reverse().ToList();
            case "items":
                return v is Dictionary<string, object?> dict ? dict.Select(kv => (object?)new List<object?> { kv.Key, kv.Value }).ToList()
                    : v is Undefined ? [] : throw Error($"items of {TypeName(v)}: expected a mapping");
            case "unique": { var seen = new List<object?>(); foreach (var x in Iterate(v)) if (!seen.Any(s => JinjaValues.Equals(s, x))) seen.Add(x); return seen; }
            case "sort":
            {
                var attribute = Arg(2, "attribute") as string;
                var list = Iterate(v);
                var keyed = list.Select(x => attribute is null ? x : GetAttr(x, attribute)).ToList();
                var order = Enumerable.Range(0, list.Count).ToList();
                order.Sort((i, j) => Compare(keyed[i], keyed[j], $"{_source}: line {_line}") is var c && c != 0 ? c : i.CompareTo(j));
                if (Truthy(Arg(0, "reverse", false))) order.Reverse();
                return order.Select(i => list[i]).ToList();
            }
            case "max" or "min":
            {
                var list = Iterate(v);
                if (list.Count == 0) return Undefined.Instance;
                return list.Aggregate((x, y) => (Compare(x, y, $"{_source}: line {_line}") > 0) == (name == "max") ? x : y);
            }
            case "sum": return Iterate(v).Aggregate((object?)0L, (acc, x) => Binary(new BinaryExpr("+", new LiteralExpr(acc), new LiteralExpr(x)), _root));
            case "wordcount": return (long)Split(StrOf(v, name), null, -1).Count;
            case "indent":
            {
                var width = Arg(0, "width", 4L) is long w ? new string(' ', (int)w) : Str(Arg(0, "width"));
                var first = Truthy(Arg(1, "first", false));
                var lines = StrOf(v, name).Split('\n');
                for (var i = 0; i < lines.Length; i++)
                    if ((i > 0 || first) && lines[i].Length > 0) lines[i] = width + lines[i];
                return string.Join("\n", lines);
            }
            case "batch":
            {
                var size = (int)Int(Arg(0, "linecount"));
                var list = Iterate(v);
                return list.Chunk(size).Select(c => (object?)c.ToList()).ToList();
            }
            case "map":
            {
                var list = Iterate(v);
                if (Arg(-1, "attribute") is string attr) return list.Select(x => GetAttr(x, attr) is Undefined && kw.TryGetValue("default", out var dflt) ? dflt : GetAttr(x, attr)).ToList();
                if (a.Count == 0 || a[0] is not string filter) throw Error("map() needs attribute= or a filter name");
                if (!JinjaParser.Filters.Contains(filter) || filter == "map") throw Error($"map: unsupported filter '{filter}'");
                return list.Select(x => Filter(filter, x, a.Skip(1).ToList(), [])).ToList();
            }
            case "select" or "reject":
            {
                var test = a.Count > 0 ? Str(a[0]) : null;
                return Iterate(v).Where(x => (test is null ? Truthy(x) : Test(test, x, a.Skip(1).ToList())) == (name == "select")).ToList();
            }
            case "selectattr" or "rejectattr":
            {
                if (a.Count == 0 || a[0] is not string attr) throw Error($"{name}() needs an attribute name");
                var test = a.Count > 1 ? Str(a[1]) : null;
                return Iterate(v).Where(x =>
                {
                    var value = GetAttr(x, attr);
                    return (test is null ? Truthy(value) : Test(test, value, a.Skip(2).ToList())) == (name == "selectattr");
                }).ToList();
            }
        }
        throw Error($"unsupported filter '{name}'");
    }

    private string StrOf(object? v, string filter) => v switch
    {
        string s => s,
        Undefined => "",
        _ => Str(v),
    };

    private static string Escape(string s) => s.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;").Replace("\"", "&#34;").Replace("'", "&#39;");

    /// <summary>Jinja's title filter: words start after whitespace or one of - ( { [ &lt;; the rest is lower-cased.</summary>
    private static string JinjaTitle(string s)
    {
        var sb = new StringBuilder(s.Length);
        var start = true;
        foreach (var c in s)
        {
            sb.Append(start ? char.ToUpperInvariant(c) : char.ToLowerInvariant(c));
            start = IsSpace(c) || c is '-' or '(' or '{' or '[' or '<';
        }
        return sb.ToString();
    }

    private bool Test(string name, object? v, List<object?> a)
    {
        object? Arg0() => a.Count > 0 ? a[0] : throw Error($"test '{name}' needs an argument");
        if (!JinjaParser.Tests.Contains(name)) throw Error($"unsupported test '{name}'");
        return name switch
        {
            "defined" => v is not Undefined,
            "undefined" => v is Undefined,
            "none" => v is null,
            "string" => v is string,
            "number" => v is long or double,
            "integer" => v is long,
            "float" => v is double,
            "boolean" => v is bool,
            "true" => v is true,
            "false" => v is false,
            "mapping" => v is Dictionary<string, object?> or JinjaNamespace,
            "iterable" or "sequence" => v is string or List<object?> or Dictionary<string, object?>,
            "callable" => v is JinjaFunction,
            "even" => Int(v) % 2 == 0,
            "odd" => Int(v) % 2 != 0,
            "divisibleby" => Int(v) % Int(Arg0()) == 0,
            "eq" or "equalto" or "==" => JinjaValues.Equals(v, Arg0()),
            "ne" or "!=" => !JinjaValues.Equals(v, Arg0()),
            "lower" => v is string s && s == s.ToLowerInvariant(),
            "upper" => v is string u && u == u.ToUpperInvariant(),
            "in" => Contains(Arg0(), v),
            _ => throw Error($"unsupported test '{name}'"),
        };
    }

    /// <summary>The strftime directives chat templates use for "Today Date: 26 Jul 2024".</summary>
    private static string StrFTime(DateTime now, string format)
    {
        var sb = new StringBuilder();
        for (var i = 0; i < format.Length; i++)
        {
            if (format[i] != '%' || i + 1 >= format.Length) { sb.Append(format[i]); continue; }
            var c = format[++i];
            sb.Append(c switch
            {
                'd' => now.ToString("dd", CultureInfo.InvariantCulture),
                'm' => now.ToString("MM", CultureInfo.InvariantCulture),
                'Y' => now.ToString("yyyy", CultureInfo.InvariantCulture),
                'y' => now.ToString("yy", CultureInfo.InvariantCulture),
                'b' => now.ToString("MMM", CultureInfo.InvariantCulture),
                'B' => now.ToString("MMMM", CultureInfo.InvariantCulture),
                'a' => now.ToString("ddd", CultureInfo.InvariantCulture),
                'A' => now.ToString("dddd", CultureInfo.InvariantCulture),
                'H' => now.ToString("HH", CultureInfo.InvariantCulture),
                'M' => now.ToString("mm", CultureInfo.InvariantCulture),
                'S' => now.ToString("ss", CultureInfo.InvariantCulture),
                'j' => now.DayOfYear.ToString("000", CultureInfo.InvariantCulture),
                '%' => "%",
                _ => "%" + c,
            });
        }
        return sb.ToString();
    }
}
