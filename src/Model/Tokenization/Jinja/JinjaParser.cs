namespace PostTrain.Model.Tokenization.Jinja;

/// <summary>
/// Recursive-descent parser for the subset, with Jinja's precedence (lowest first): conditional expression, or, and,
/// not, comparisons and in, + -, ~, * / // %, **, unary minus, then filters/tests bound to the operand, postfix.
/// A statement or filter outside the subset is refused here, by name, before anything renders.
/// </summary>
internal sealed class JinjaParser
{
    internal static readonly HashSet<string> Filters = ["trim", "length", "count", "tojson", "upper", "lower", "title", "capitalize",
        "default", "d", "join", "first", "last", "list", "string", "int", "float", "replace", "reverse", "safe", "abs", "items",
        "map", "select", "reject", "selectattr", "rejectattr", "unique", "sort", "e", "escape", "round", "max", "min", "indent", "wordcount", "batch", "sum"];
    internal static readonly HashSet<string> Tests = ["defined", "undefined", "none", "string", "number", "integer", "float", "mapping",
        "iterable", "sequence", "boolean", "true", "false", "even", "odd", "divisibleby", "eq", "equalto", "==", "ne", "!=", "lower", "upper", "in", "callable"];
    private static readonly HashSet<string> Refused = ["macro", "call", "filter", "include", "import", "from", "extends", "block",
        "raw", "with", "autoescape", "generation", "trans", "do", "endset"];

    private readonly List<JinjaChunk> _chunks;
    private readonly string _source;
    private int _index;

    private JinjaParser(List<JinjaChunk> chunks, string source) { _chunks = chunks; _source = source; }

    public static List<Node> Parse(string template, string source)
    {
        var parser = new JinjaParser(JinjaLexer.Split(template, source), source);
        var body = parser.Body(out var end, []);
        if (end is not null) throw new JinjaException($"{source}: line {end.Value.Line}: unexpected '{{% {end.Value.Tag} %}}'");
        return body;
    }

    /// <summary>Nodes until a statement whose keyword is in <paramref name="stops"/> (returned) or the end (null).</summary>
    private List<Node> Body(out (string Tag, TokenStream Stream, int Line)? stop, HashSet<string> stops)
    {
        var nodes = new List<Node>();
        while (_index < _chunks.Count)
        {
            var chunk = _chunks[_index++];
            var where = $"{_source}: line {chunk.Line}";
            switch (chunk.Kind)
            {
                case JinjaChunkKind.Text: nodes.Add(new TextNode(chunk.Text, chunk.Line)); continue;
                case JinjaChunkKind.Output:
                {
                    var ts = new TokenStream(JinjaLexer.Tokenize(chunk.Text, where), where);
                    nodes.Add(new OutputNode(Expression(ts), chunk.Line));
                    ts.ExpectEnd();
                    continue;
                }
            }
            var stream = new TokenStream(JinjaLexer.Tokenize(chunk.Text, where), where);
            var keyword = stream.Peek.Kind == JinjaTokenKind.Name ? stream.Next().Text : "";
            if (stops.Contains(keyword)) { stop = (keyword, stream, chunk.Line); return nodes; }
            nodes.Add(keyword switch
            {
                "if" => If(stream, chunk.Line),
                "for" => For(stream, chunk.Line),
                "set" => Set(stream, chunk.Line),
                "break" or "continue" => End(stream, new LoopControlNode(keyword == "break", chunk.Line)),
                _ when Refused.Contains(keyword) || keyword.StartsWith("end", StringComparison.Ordinal) && Refused.Contains(keyword[3..]) =>
                    throw new JinjaException($"{where}: unsupported Jinja construct '{{% {keyword} %}}'. {JinjaException.HowToPass}"),
                _ => throw new JinjaException($"{where}: unexpected '{{% {chunk.Text} %}}'" +
                    (keyword.StartsWith("end", StringComparison.Ordinal) || keyword is "else" or "elif" ? " with no open block" : $". {JinjaException.HowToPass}")),
            });
        }
        stop = null;
        return nodes;
    }

    private static Node End(TokenStream ts, Node node) { ts.ExpectEnd(); return node; }

    private Node If(TokenStream ts, int line)
    {
        var branches = new List<(Expr, List<Node>)>();
        var test = Expression(ts);
        ts.ExpectEnd();
        while (true)
        {
            var body = Body(out var stop, ["elif", "else", "endif"]);
            branches.Add((test, body));
            if (stop is null) throw new JinjaException($"{_source}: line {line}: '{{% if %}}' is never closed with '{{% endif %}}'");
            var (tag, rest, _) = stop.Value;
            if (tag == "elif") { test = Expression(rest); rest.ExpectEnd(); continue; }
            rest.ExpectEnd();
            if (tag == "endif") return new IfNode(branches, null, line);
            var elseBody = Body(out var end, ["endif"]);
            if (end is null) throw new JinjaException($"{_source}: line {line}: '{{% if %}}' is never closed with '{{% endif %}}'");
            end.Value.Stream.ExpectEnd();
            return new IfNode(branches, elseBody, line);
        }
    }

    private Node For(TokenStream ts, int line)
    {
        var targets = new List<string> { ts.ExpectName() };
        while (ts.Accept(",")) targets.Add(ts.ExpectName());
        ts.ExpectName("in");
        var iterable = Or(ts);
        if (ts.Peek.Kind == JinjaTokenKind.Name && ts.Peek.Text == "recursive")
            throw new JinjaException($"{ts.Where}: unsupported Jinja construct 'recursive' loop. {JinjaException.HowToPass}");
        Expr? filter = null;
        if (ts.AcceptName("if")) filter = Expression(ts, allowCondition: false);
        ts.ExpectEnd();
        var body = Body(out var stop, ["else", "endfor"]);
        if (stop is null) throw new JinjaException($"{_source}: line {line}: '{{% for %}}' is never closed with '{{% endfor %}}'");
        stop.Value.Stream.ExpectEnd();
        List<Node>? elseBody = null;
        if (stop.Value.Tag == "else")
        {
            elseBody = Body(out var end, ["endfor"]);
            if (end is null) throw new JinjaException($"{_source}: line {line}: '{{% for %}}' is never closed with '{{% endfor %}}'");
            end.Value.Stream.ExpectEnd();
        }
        return new ForNode(targets, iterable, filter, body, elseBody, line);
    }

    private static Node Set(TokenStream ts, int line)
    {
        var name = ts.ExpectName();
        string? attribute = null;
        if (ts.Accept(".")) attribute = ts.ExpectName();
        if (ts.Peek.Kind == JinjaTokenKind.End)
            throw new JinjaException($"{ts.Where}: unsupported Jinja construct '{{% set {name} %}}...{{% endset %}}' (block set). {JinjaException.HowToPass}");
        if (ts.Peek.Text == ",") throw new JinjaException($"{ts.Where}: unsupported Jinja construct 'set' with several targets. {JinjaException.HowToPass}");
        ts.Expect("=");
        var value = Expression(ts);
        ts.ExpectEnd();
        return new SetNode(name, attribute, value, line);
    }

    // ---- expressions ----

    internal static Expr Expression(TokenStream ts, bool allowCondition = true)
    {
        var value = Or(ts);
        if (!allowCondition || !ts.AcceptName("if")) return value;
        var test = Or(ts);
        Expr? otherwise = ts.AcceptName("else") ? Expression(ts) : null;
        return new CondExpr(value, test, otherwise);
    }

    private static Expr Or(TokenStream ts)
    {
        var left = And(ts);
        while (ts.AcceptName("or")) left = new BinaryExpr("or", left, And(ts));
        return left;
    }

    private static Expr And(TokenStream ts)
    {
        var left = Not(ts);
        while (ts.AcceptName("and")) left = new BinaryExpr("and", left, Not(ts));
        return left;
    }

    private static Expr Not(TokenStream ts) => ts.AcceptName("not") ? new UnaryExpr("not", Not(ts)) : Compare(ts);

    private static Expr Compare(TokenStream ts)
    {
        var left = Add(ts);
        while (true)
        {
            var t = ts.Peek;
            if (t.Kind == JinjaTokenKind.Op && t.Text is "==" or "!=" or "<" or ">" or "<=" or ">=") { ts.Next(); left = new BinaryExpr(t.Text, left, Add(ts)); }
            else if (ts.AcceptName("in")) left = new BinaryExpr("in", left, Add(ts));
            else if (t.Kind == JinjaTokenKind.Name && t.Text == "not" && ts.PeekAt(1) is { Kind: JinjaTokenKind.Name, Text: "in" })
            { ts.Next(); ts.Next(); left = new BinaryExpr("not in", left, Add(ts)); }
            else return left;
        }
    }

    private static Expr Add(TokenStream ts)
    {
        var left = Concat(ts);
        while (ts.Peek is { Kind: JinjaTokenKind.Op, Text: "+" or "-" } t) { ts.Next(); left = new BinaryExpr(t.Text, left, Concat(ts)); }
        return left;
    }

    private static Expr Concat(TokenStream ts)
    {
        var left = Multiply(ts);
        while (ts.Accept("~")) left = new BinaryExpr("~", left, Multiply(ts));
        return left;
    }

    private static Expr Multiply(TokenStream ts)
    {
        var left = Power(ts);
        while (ts.Peek is { Kind: JinjaTokenKind.Op, Text: "*" or "/" or "//" or "%" } t) { ts.Next(); left = new BinaryExpr(t.Text, left, Power(ts)); }
        return left;
    }

    private static Expr Power(TokenStream ts)
    {
        var left = Unary(ts);
        while (ts.Accept("**")) left = new BinaryExpr("**", left, Unary(ts));
        return left;
    }

    private static Expr Unary(TokenStream ts, bool withFilter = true)
    {
        Expr node;
        if (ts.Accept("-")) node = new UnaryExpr("-", Unary(ts, false));
        else if (ts.Accept("+")) node = Unary(ts, false);
        else node = Postfix(ts, Primary(ts));
        return withFilter ? FiltersAndTests(ts, node) : node;
    }

    private static Expr FiltersAndTests(TokenStream ts, Expr node)
    {
        while (true)
        {
            if (ts.Accept("|"))
            {
                var name = ts.ExpectName();
                if (!Filters.Contains(name)) throw new JinjaException($"{ts.Where}: unsupported Jinja filter '{name}'. {JinjaException.HowToPass}");
                var (args, kwargs) = ts.Peek.Text == "(" && ts.Peek.Kind == JinjaTokenKind.Op ? Arguments(ts) : ([], []);
                node = Postfix(ts, new FilterExpr(node, name, args, kwargs));
                continue;
            }
            if (ts.AcceptName("is"))
            {
                var negated = ts.AcceptName("not");
                var name = ts.Peek.Kind == JinjaTokenKind.Op && ts.Peek.Text is "==" or "!=" ? ts.Next().Text : ts.ExpectName();
                if (!Tests.Contains(name)) throw new JinjaException($"{ts.Where}: unsupported Jinja test '{name}'. {JinjaException.HowToPass}");
                var args = new List<Expr>();
                if (ts.Peek is { Kind: JinjaTokenKind.Op, Text: "(" }) args = Arguments(ts).Args;
                else if (ts.Peek.Kind is JinjaTokenKind.String or JinjaTokenKind.Number ||
                         ts.Peek.Kind == JinjaTokenKind.Name && ts.Peek.Text is not ("and" or "or" or "else" or "if" or "is" or "in" or "not"))
                    args.Add(Primary(ts));
                node = new TestExpr(node, name, args, negated);
                continue;
            }
            return node;
        }
    }

    private static Expr Primary(TokenStream ts)
    {
        var t = ts.Next();
        switch (t.Kind)
        {
            case JinjaTokenKind.String:
            {
                var s = (string)t.Value!;
                while (ts.Peek.Kind == JinjaTokenKind.String) s += (string)ts.Next().Value!;   // adjacent literals concatenate
                return new LiteralExpr(s);
            }
            case JinjaTokenKind.Number: return new LiteralExpr(t.Value);
            case JinjaTokenKind.Name:
                return t.Text switch
                {
                    "true" or "True" => new LiteralExpr(true),
                    "false" or "False" => new LiteralExpr(false),
                    "none" or "None" => new LiteralExpr(null),
                    _ => new NameExpr(t.Text),
                };
        }
        if (t.Text == "(")
        {
            if (ts.Accept(")")) return new ListExpr([]);
            var first = Expression(ts);
            if (ts.Accept(")")) return first;
            var items = new List<Expr> { first };
            while (ts.Accept(",") && ts.Peek.Text != ")") items.Add(Expression(ts));
            ts.Expect(")");
            return new ListExpr(items);
        }
        if (t.Text == "[")
        {
            var items = new List<Expr>();
            while (!ts.Accept("]")) { items.Add(Expression(ts)); if (!ts.Accept(",")) { ts.Expect("]"); break; } }
            return new ListExpr(items);
        }
        if (t.Text == "{")
        {
            var items = new List<(Expr, Expr)>();
            while (!ts.Accept("}"))
            {
                var key = Expression(ts);
                ts.Expect(":");
                items.Add((key, Expression(ts)));
                if (!ts.Accept(",")) { ts.Expect("}"); break; }
            }
            return new DictExpr(items);
        }
        throw new JinjaException($"{ts.Where}: unexpected '{t.Text}'");
    }

    private static Expr Postfix(TokenStream ts, Expr node)
    {
        while (true)
        {
            if (ts.Accept("."))
            {
                var name = ts.Peek.Kind == JinjaTokenKind.Number ? ts.Next().Text : ts.ExpectName();
                node = long.TryParse(name, out var n) ? new ItemExpr(node, new LiteralExpr(n)) : new AttrExpr(node, name);
            }
            else if (ts.Peek is { Kind: JinjaTokenKind.Op, Text: "[" })
            {
                ts.Next();
                Expr? start = null, stop = null, step = null;
                var isSlice = false;
                if (ts.Peek.Text != ":") start = Expression(ts);
                if (ts.Accept(":"))
                {
                    isSlice = true;
                    if (ts.Peek.Text is not (":" or "]")) stop = Expression(ts);
                    if (ts.Accept(":") && ts.Peek.Text != "]") step = Expression(ts);
                }
                ts.Expect("]");
                node = isSlice ? new SliceExpr(node, start, stop, step) : new ItemExpr(node, start!);
            }
            else if (ts.Peek is { Kind: JinjaTokenKind.Op, Text: "(" })
            {
                var (args, kwargs) = Arguments(ts);
                node = new CallExpr(node, args, kwargs);
            }
            else return node;
        }
    }

    private static (List<Expr> Args, List<(string, Expr)> Kwargs) Arguments(TokenStream ts)
    {
        ts.Expect("(");
        var args = new List<Expr>();
        var kwargs = new List<(string, Expr)>();
        while (!ts.Accept(")"))
        {
            if (ts.Peek.Kind == JinjaTokenKind.Name && ts.PeekAt(1) is { Kind: JinjaTokenKind.Op, Text: "=" })
            {
                var name = ts.Next().Text;
                ts.Next();
                kwargs.Add((name, Expression(ts)));
            }
            else args.Add(Expression(ts));
            if (!ts.Accept(",")) { ts.Expect(")"); break; }
        }
        return (args, kwargs);
    }

    /// <summary>Tokens of one chunk with one-token lookahead.</summary>
    internal sealed class TokenStream(List<JinjaToken> tokens, string where)
    {
        private int _pos;
        public string Where { get; } = where;
        public JinjaToken Peek => tokens[_pos];
        public JinjaToken PeekAt(int k) => tokens[Math.Min(_pos + k, tokens.Count - 1)];
        public JinjaToken Next() => tokens[_pos < tokens.Count - 1 ? _pos++ : _pos];
        public bool Accept(string op)
        {
            if (Peek.Kind != JinjaTokenKind.Op || Peek.Text != op) return false;
            _pos++;
            return true;
        }
        public bool AcceptName(string name)
        {
            if (Peek.Kind != JinjaTokenKind.Name || Peek.Text != name) return false;
            _pos++;
            return true;
        }
        public void Expect(string op)
        {
            if (!Accept(op)) throw new JinjaException($"{Where}: expected '{op}', found '{Peek.Text}'");
        }
        public string ExpectName(string? name = null)
        {
            if (Peek.Kind != JinjaTokenKind.Name || (name is not null && Peek.Text != name))
                throw new JinjaException($"{Where}: expected {(name is null ? "a name" : $"'{name}'")}, found '{Peek.Text}'");
            return Next().Text;
        }
        public void ExpectEnd()
        {
            if (Peek.Kind != JinjaTokenKind.End) throw new JinjaException($"{Where}: unexpected '{Peek.Text}'");
        }
    }
}
