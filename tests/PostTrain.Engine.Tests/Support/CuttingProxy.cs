using System.Net;
using System.Net.Sockets;

namespace PostTrain.Engine.Tests.Support;

/// <summary>
/// A TCP relay in front of a server that cuts its first <c>cuts</c> connections after <c>cutAfter</c> bytes of
/// response: what a dropped link or a restarted router does to a long download. Records each request's head.
/// </summary>
public sealed class CuttingProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly int _upstreamPort;
    private readonly long _cutAfter;
    private int _cuts;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<string> _requests = [];

    public CuttingProxy(int upstreamPort, long cutAfter, int cuts)
    {
        _upstreamPort = upstreamPort;
        _cutAfter = cutAfter;
        _cuts = cuts;
        _listener.Start();
        _ = AcceptAsync();
    }

    public Uri Url => new($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/");
    public int CutsLeft => Volatile.Read(ref _cuts);
    public IReadOnlyList<string> Requests { get { lock (_requests) return [.. _requests]; } }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try { client = await _listener.AcceptTcpClientAsync(_stop.Token); }
            catch (Exception) { return; }
            _ = RelayAsync(client, Interlocked.Decrement(ref _cuts) >= 0);
        }
    }

    private async Task RelayAsync(TcpClient client, bool cut)
    {
        using var c = client;
        using var upstream = new TcpClient();
        try
        {
            await upstream.ConnectAsync(IPAddress.Loopback, _upstreamPort);
            var up = Pump(c.GetStream(), upstream.GetStream(), long.MaxValue, record: true);
            var down = Pump(upstream.GetStream(), c.GetStream(), cut ? _cutAfter : long.MaxValue, record: false);
            await Task.WhenAny(up, down);
        }
        catch (Exception) { }
    }

    private async Task Pump(Stream from, Stream to, long limit, bool record)
    {
        var buffer = new byte[16 * 1024];
        long sent = 0;
        while (true)
        {
            var n = await from.ReadAsync(buffer, _stop.Token);
            if (n == 0) return;
            if (record) lock (_requests) _requests.Add(System.Text.Encoding.ASCII.GetString(buffer, 0, n));
            var take = (int)Math.Min(n, limit - sent);
            await to.WriteAsync(buffer.AsMemory(0, take), _stop.Token);
            sent += take;
            if (sent >= limit) return; // the cut: both sockets close when the relay ends
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        _stop.Dispose();
    }
}
