using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace PostTrain.Model.Inference;

/// <summary>
/// Zeroed CPU buffers that Linux backs with transparent huge pages where it offers them on request (THP "madvise", Debian's
/// default). A K/V cache is hundreds of megabytes allocated once per sampling call and then touched everywhere; faulting it
/// in 2 MiB pages instead of 4 KiB ones took the medium preset's 384-slot cache (672 MB) from 1.1-1.6 s to 0.1-0.5 s, a
/// fifth of that bench run's sampling time. Training buffers are left alone: the same advice on every libtorch allocation
/// (THP_MEM_ALLOC_ENABLE) did not speed SFT steps up. The packed weights of <see cref="PackedMatrix"/>, read whole every
/// decode step, take them too.
/// </summary>
internal static unsafe partial class HugePages
{
    private const long PageBytes = 2L << 20;
    private const int MadvHugePage = 14; // MADV_HUGEPAGE

    [LibraryImport("libc", EntryPoint = "madvise")]
    private static partial int Madvise(nint address, nuint length, int advice);

    /// <summary>Alignment for a native buffer of <paramref name="bytes"/> that <see cref="Advise"/> can cover whole.</summary>
    public static nuint Alignment(long bytes) => bytes >= 2 * PageBytes ? (nuint)PageBytes : 64;

    public static Tensor Zeros(long[] shape, ScalarType dtype, Device? device)
    {
        var t = empty(shape, dtype, device);
        var bytes = t.NumberOfElements * t.ElementSize;
        // Spans stop at 2 GiB, so larger buffers keep ordinary pages.
        if (t.device_type == DeviceType.CPU && bytes <= int.MaxValue) Advise(Unsafe.AsPointer(ref MemoryMarshal.GetReference(t.bytes)), bytes);
        return t.zero_();
    }

    /// <summary>Asks for huge pages over the whole 2 MiB pages inside [start, start + bytes), before they are first touched.
    /// Advice only: a refusal (no THP, another OS) leaves ordinary pages.</summary>
    public static void Advise(void* start, long bytes)
    {
        if (!OperatingSystem.IsLinux() || bytes < 2 * PageBytes) return;
        var first = ((nint)start + (nint)PageBytes - 1) & ~(nint)(PageBytes - 1);
        var end = ((nint)start + (nint)bytes) & ~(nint)(PageBytes - 1);
        if (end <= first) return;
        try { _ = Madvise(first, (nuint)(end - first), MadvHugePage); }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { }
    }
}
