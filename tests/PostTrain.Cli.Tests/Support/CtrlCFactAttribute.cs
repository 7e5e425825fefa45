using System.Globalization;

namespace PostTrain.Cli.Tests.Support;

/// <summary>
/// A fact that sends SIGINT to a child posttrain; skipped, saying why, when this process ignores SIGINT. A job started
/// with <c>cmd &amp;</c> from a non-interactive shell inherits SIGINT ignored, its children too, and the runtime keeps an
/// inherited ignore: the child would never see the Ctrl+C the test sends (measured: the run finished, exit 0).
/// </summary>
public sealed class CtrlCFactAttribute : FactAttribute
{
    public CtrlCFactAttribute()
    {
        if (SigIntIgnored()) Skip = "SIGINT is ignored by this test process (started in the background from a non-interactive shell?); run the suite in the foreground to test Ctrl+C";
    }

    private static bool SigIntIgnored()
    {
        const string status = "/proc/self/status";
        if (!File.Exists(status)) return false;
        var line = File.ReadLines(status).FirstOrDefault(l => l.StartsWith("SigIgn:", StringComparison.Ordinal));
        // The mask has bit (signal − 1) set per ignored signal; SIGINT is 2.
        return line is not null && (ulong.Parse(line["SigIgn:".Length..].Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture) & 0x2) != 0;
    }
}
