using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PostTrain.Model.Training;

/// <summary>
/// The one AdamW set-up every trainer uses (nanoGPT's <c>configure_optimizers</c>): decoupled weight decay (Loshchilov
/// &amp; Hutter 2019) on matrices only, none on norm gains, biases or the token embedding, whose shrinking only distorts
/// scale and token identity. Two groups, decaying first, each in the given parameter order.
/// </summary>
public static class OptimizerGroups
{
    /// <summary>Whether <paramref name="name"/> decays: two or more dimensions and not the embedding (LoRA's A and B do).</summary>
    public static bool Decays(string name, Tensor parameter) =>
        parameter.dim() >= 2 && !name.Contains("embed_tokens", StringComparison.Ordinal);

    /// <param name="decays">Which parameters decay; default <see cref="Decays"/>.</param>
    public static AdamW AdamW(IEnumerable<(string Name, Parameter Parameter)> named, double learningRate, double beta1, double beta2,
        double eps, double weightDecay, Func<string, Tensor, bool>? decays = null)
    {
        decays ??= Decays;
        var list = named.ToList();
        return optim.AdamW(
            [new AdamW.ParamGroup(list.Where(p => decays(p.Name, p.Parameter)).Select(p => p.Parameter), lr: learningRate, beta1: beta1, beta2: beta2, eps: eps, weight_decay: weightDecay),
             new AdamW.ParamGroup(list.Where(p => !decays(p.Name, p.Parameter)).Select(p => p.Parameter), lr: learningRate, beta1: beta1, beta2: beta2, eps: eps, weight_decay: 0)],
            lr: learningRate, beta1: beta1, beta2: beta2, eps: eps, weight_decay: weightDecay);
    }
}
