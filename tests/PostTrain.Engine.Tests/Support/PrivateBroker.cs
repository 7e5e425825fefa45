using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace PostTrain.Engine.Tests.Support;

/// <summary>
/// A RabbitMQ node of one test's own (its own name, AMQP and distribution ports on 127.0.0.1, data in a temp
/// directory, no plugins), for tests that stop and start the broker: the shared one on 5672 serves every other test
/// and every other process on the machine. rabbitmq-server runs as the rabbitmq user when started by root, so the
/// directory is handed to it. Disposing stops the node and deletes its data.
/// </summary>
public sealed class PrivateBroker : IDisposable
{
    private const string Server = "/usr/sbin/rabbitmq-server";
    private readonly string _dir;
    private readonly Process _process;

    private PrivateBroker(string node, int port, string dir, Process process)
    {
        Node = node;
        Port = port;
        _dir = dir;
        _process = process;
    }

    public string Node { get; }
    public int Port { get; }
    public string Uri => $"rabbitmq://127.0.0.1:{Port}";

    /// <summary>Why a private node cannot be started here (null when it can): rabbitmq-server is missing, or only root or rabbitmq may run it.</summary>
    public static string? Unavailable =>
        !File.Exists(Server) ? $"no {Server} (build/setup.sh installs rabbitmq-server)"
        : Environment.UserName is not ("root" or "rabbitmq") ? "rabbitmq-server runs only as root or rabbitmq; a private broker node cannot be started by " + Environment.UserName
        : null;

    /// <summary>Starts a node and waits until it accepts connections (tens of seconds on a loaded machine).</summary>
    public static PrivateBroker Start(TimeSpan timeout)
    {
        var id = Guid.NewGuid().ToString("N")[..10];
        var node = $"posttrain{id}@localhost";
        var dir = Path.Combine(Path.GetTempPath(), $"posttrain-broker-{id}");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "enabled_plugins"), "[].\n");
        if (Environment.UserName == "root") Run("chown", "-R", "rabbitmq:rabbitmq", dir);
        var port = FreePort();
        var psi = new ProcessStartInfo(Server) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.Environment["RABBITMQ_NODENAME"] = node;
        psi.Environment["RABBITMQ_NODE_IP_ADDRESS"] = "127.0.0.1";
        psi.Environment["RABBITMQ_NODE_PORT"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        psi.Environment["RABBITMQ_DIST_PORT"] = FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture);
        psi.Environment["ERL_EPMD_ADDRESS"] = "127.0.0.1";
        psi.Environment["RABBITMQ_MNESIA_BASE"] = Path.Combine(dir, "mnesia");
        psi.Environment["RABBITMQ_LOG_BASE"] = Path.Combine(dir, "log");
        psi.Environment["RABBITMQ_ENABLED_PLUGINS_FILE"] = Path.Combine(dir, "enabled_plugins");
        psi.Environment["RABBITMQ_PID_FILE"] = Path.Combine(dir, "pid");
        psi.Environment["RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS"] = "-kernel inet_dist_use_interface {127,0,0,1}";
        var process = Process.Start(psi) ?? throw new InvalidOperationException($"{Server} did not start");
        _ = process.StandardOutput.ReadToEndAsync();
        _ = process.StandardError.ReadToEndAsync();
        var broker = new PrivateBroker(node, port, dir, process);
        var deadline = DateTime.UtcNow + timeout;
        while (!broker.Ctl("await_startup"))
        {
            if (process.HasExited || DateTime.UtcNow > deadline)
            {
                var log = Directory.Exists(Path.Combine(dir, "log")) ? string.Join('\n', Directory.GetFiles(Path.Combine(dir, "log")).Select(File.ReadAllText)) : "";
                broker.Dispose();
                throw new InvalidOperationException($"private RabbitMQ node {node} did not start in {timeout}:\n{log}");
            }
            Thread.Sleep(1000);
        }
        return broker;
    }

    /// <summary><c>rabbitmqctl stop_app</c>: the node drops every connection and stops serving, as in a broker restart.</summary>
    public void StopApp() => Require(Ctl("stop_app"), "stop_app");

    public void StartApp() => Require(Ctl("start_app"), "start_app");

    private void Require(bool ok, string what)
    {
        if (!ok) throw new InvalidOperationException($"rabbitmqctl -n {Node} {what} failed");
    }

    private bool Ctl(string command) => Run("rabbitmqctl", "-n", Node, "-q", command);

    private static bool Run(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        _ = p.StandardOutput.ReadToEndAsync();
        _ = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(120_000)) { p.Kill(entireProcessTree: true); return false; }
        return p.ExitCode == 0;
    }

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    public void Dispose()
    {
        Ctl("stop");
        if (!_process.HasExited)
        {
            try { _process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            _process.WaitForExit(30_000);
        }
        _process.Dispose();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
