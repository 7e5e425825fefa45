namespace PostTrain.Engine.Definitions;

/// <summary>What an activity input (or a container's count/items/outputs) refers to.</summary>
public enum InputKind
{
    /// <summary>A JSON value written in the definition.</summary>
    Literal,
    /// <summary><c>{"param":"rounds"}</c>: a workflow parameter; a dotted path reads into an object parameter.</summary>
    Param,
    /// <summary><c>{"from":"sft.checkpoint"}</c>: an output of an activity in this scope or an enclosing one.</summary>
    From,
    /// <summary><c>{"fromPrevious":"select.best","initial":...}</c>: the previous round's output inside a repeat; round 0 uses <c>initial</c>.</summary>
    FromPrevious,
    /// <summary><c>{"var":"round"}</c>, <c>{"var":"item.beta"}</c>, <c>{"var":"index"}</c>: loop variables of the enclosing containers.</summary>
    Var,
}
