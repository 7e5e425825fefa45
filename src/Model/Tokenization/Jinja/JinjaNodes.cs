namespace PostTrain.Model.Tokenization.Jinja;

// The syntax tree of the Jinja subset. Expressions evaluate to values; nodes write output.

internal abstract record Expr;
internal sealed record LiteralExpr(object? Value) : Expr;
internal sealed record NameExpr(string Name) : Expr;
internal sealed record ListExpr(List<Expr> Items) : Expr;
internal sealed record DictExpr(List<(Expr Key, Expr Value)> Items) : Expr;
internal sealed record AttrExpr(Expr Target, string Name) : Expr;
internal sealed record ItemExpr(Expr Target, Expr Key) : Expr;
internal sealed record SliceExpr(Expr Target, Expr? Start, Expr? Stop, Expr? Step) : Expr;
internal sealed record CallExpr(Expr Function, List<Expr> Args, List<(string Name, Expr Value)> Kwargs) : Expr;
internal sealed record FilterExpr(Expr Value, string Name, List<Expr> Args, List<(string Name, Expr Value)> Kwargs) : Expr;
internal sealed record TestExpr(Expr Value, string Name, List<Expr> Args, bool Negated) : Expr;
internal sealed record UnaryExpr(string Op, Expr Operand) : Expr;
internal sealed record BinaryExpr(string Op, Expr Left, Expr Right) : Expr;
internal sealed record CondExpr(Expr Then, Expr Test, Expr? Else) : Expr;

internal abstract record Node(int Line);
internal sealed record TextNode(string Text, int Line) : Node(Line);
internal sealed record OutputNode(Expr Value, int Line) : Node(Line);
internal sealed record IfNode(List<(Expr Test, List<Node> Body)> Branches, List<Node>? Else, int Line) : Node(Line);
internal sealed record ForNode(List<string> Targets, Expr Iterable, Expr? Filter, List<Node> Body, List<Node>? Else, int Line) : Node(Line);
internal sealed record SetNode(string Name, string? Attribute, Expr Value, int Line) : Node(Line);
internal sealed record LoopControlNode(bool IsBreak, int Line) : Node(Line);
