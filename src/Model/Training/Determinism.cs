using static TorchSharp.torch;

namespace PostTrain.Model.Training;

/// <summary>
/// Seeds every random source PostTrain draws from, so a run is repeatable. Bitwise-equal results on CPU also need the same
/// intra-op thread count: libtorch splits reductions by thread, and a different split sums floats in a different order.
/// </summary>
public static class Determinism
{
    /// <summary>Seeds libtorch's default generator (CPU and, when present, CUDA) and fixes the intra-op thread count.</summary>
    /// <param name="threads">Intra-op threads for <c>torch.set_num_threads</c>; null leaves the current setting, which must then match between runs.</param>
    public static void Seed(int seed, int? threads = null)
    {
        if (threads is { } n)
        {
            if (n <= 0) throw new ArgumentOutOfRangeException(nameof(threads), n, "thread count must be > 0");
            set_num_threads(n);
        }
        manual_seed(seed);
        if (cuda.is_available()) cuda.manual_seed_all(seed);
    }

    /// <summary>A fresh <see cref="Random"/> for managed-side sampling (data shuffles), derived from the same seed.</summary>
    public static Random ManagedRandom(int seed) => new(seed);
}
