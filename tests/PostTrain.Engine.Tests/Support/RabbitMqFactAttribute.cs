using System.Diagnostics;
using System.Net.Sockets;

namespace PostTrain.Engine.Tests.Support;

/// <summary>
/// A fact that needs a RabbitMQ broker: POSTTRAIN_TEST_RABBITMQ (set by build/test.sh), else rabbitmq://127.0.0.1 when
/// something answers on 127.0.0.1:5672 (build/rabbitmq.sh is tried first when rabbitmq-server is installed). Skipped,
/// saying why, when there is none.
/// </summary>
public sealed class RabbitMqFactAttribute : FactAttribute
{
    public RabbitMqFactAttribute()
    {
        if (Broker.Uri is null) Skip = Broker.Why;
    }
}

public static class Broker
{
    private static readonly Lazy<(string? Uri, string Why)> Found = new(Find);

    public static string? Uri => Found.Value.Uri;
    public static string Why => Found.Value.Why;

    private static (string?, string) Find()
    {
        if (Environment.GetEnvironmentVariable("POSTTRAIN_TEST_RABBITMQ") is { Length: > 0 } env) return (env.TrimEnd('/'), "");
        if (Listening()) return ("rabbitmq://127.0.0.1", "");
        if (File.Exists("/usr/sbin/rabbitmq-server") || File.Exists("/usr/bin/rabbitmq-server") || File.Exists("/usr/lib/rabbitmq/bin/rabbitmq-server"))
        {
            try
            {
                using var p = Process.Start(new ProcessStartInfo("bash", [Path.Combine(RepoRoot(), "build", "rabbitmq.sh")]) { UseShellExecute = false })!;
                if (!p.WaitForExit(90_000)) p.Kill(entireProcessTree: true);
            }
            catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception or DirectoryNotFoundException) { }
            if (Listening()) return ("rabbitmq://127.0.0.1", "");
        }
        return (null, "RabbitMQ test skipped: POSTTRAIN_TEST_RABBITMQ is not set and nothing listens on 127.0.0.1:5672 (start one with build/rabbitmq.sh)");
    }

    private static string RepoRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "build", "rabbitmq.sh"))) return d.FullName;
        throw new DirectoryNotFoundException($"no build/rabbitmq.sh above {AppContext.BaseDirectory}");
    }

    private static bool Listening()
    {
        try
        {
            using var c = new TcpClient();
            return c.ConnectAsync("127.0.0.1", 5672).Wait(3000) && c.Connected;
        }
        catch (Exception e) when (e is SocketException or AggregateException) { return false; }
    }

    /// <summary>A fresh vhost for one test (rabbitmqctl on this machine), or null when it cannot be made (then the URI's own vhost is shared).</summary>
    public static string? CreateVhost()
    {
        var name = $"posttrain-test-{Guid.NewGuid():N}"[..30];
        return Ctl("add_vhost", name) && Ctl("set_permissions", "-p", name, "guest", ".*", ".*", ".*") ? name : null;
    }

    public static void DeleteVhost(string name) => Ctl("delete_vhost", name);

    private static bool Ctl(params string[] args)
    {
        try
        {
            var psi = new ProcessStartInfo("rabbitmqctl") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in new[] { "-n", "rabbit@localhost", "-q" }.Concat(args)) psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            _ = p.StandardOutput.ReadToEndAsync();
            _ = p.StandardError.ReadToEndAsync();
            if (!p.WaitForExit(60_000)) { p.Kill(entireProcessTree: true); return false; }
            return p.ExitCode == 0;
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception) { return false; }
    }
}
