using System.Diagnostics;
using System.Runtime.ExceptionServices;

namespace PostTrain.Model.Inference;

/// <summary>
/// The threads that run <see cref="CpuForward"/>'s steps: the caller's thread and <c>threads − 1</c> workers of its own
/// claim chunks of one loop from a shared counter as they come free, so a descheduled thread's share goes to the others.
/// </summary>
/// <remarks>
/// A decode step comes every few milliseconds, so between loops a worker spins for <see cref="SpinSeconds"/> before it
/// blocks: Parallel.For's thread-pool worker joined its step 0.4-0.5 ms after the caller's thread started (small preset,
/// 384 rows, 2 threads: some 13% of a 3.3 ms step), the time a blocked thread takes to wake on this VM.
/// </remarks>
internal sealed class ChunkTeam : IDisposable
{
    private const double SpinSeconds = 0.002;

    /// <summary>One loop: its body, its chunk count and the counters its threads share. A worker still finishing an
    /// earlier loop holds that loop's job, so it can never claim a chunk of the next one.</summary>
    private sealed class Job(Action<int> body, int chunks)
    {
        public readonly Action<int> Body = body;
        public readonly int Chunks = chunks;
        public int Next, Done;
        public Exception? Error;
    }

    private readonly Thread[] _workers;
    private readonly object _gate = new();
    private Job? _job;
    private int _sleepers;
    private volatile bool _stopping;

    /// <param name="threads">The caller's thread and its workers; the workers start with the first loop of more than one chunk
    /// (a one-row decoder never needs them, and starting and stopping a thread cost it some 4 ms).</param>
    public ChunkTeam(int threads) => _workers = new Thread[Math.Max(0, threads - 1)];

    /// <summary>Runs <paramref name="body"/>(0 … <paramref name="chunks"/> − 1), each once, and returns when all are done;
    /// the first exception a chunk threw is rethrown here.</summary>
    public void Run(int chunks, Action<int> body)
    {
        ObjectDisposedException.ThrowIf(_stopping, this);
        if (chunks > 1 && _workers.Length > 0 && _workers[0] is null)
            for (var i = 0; i < _workers.Length; i++)
            {
                _workers[i] = new Thread(Loop) { IsBackground = true, Name = $"CpuForward worker {i + 1}" };
                _workers[i].Start();
            }
        var job = new Job(body, chunks);
        Interlocked.Exchange(ref _job, job); // a full fence: the sleepers count below is read after the job is visible
        if (Volatile.Read(ref _sleepers) > 0)
            lock (_gate) Monitor.PulseAll(_gate);
        Work(job);
        var wait = new SpinWait();
        while (Volatile.Read(ref job.Done) < chunks) wait.SpinOnce(sleep1Threshold: -1);
        if (job.Error is { } error) ExceptionDispatchInfo.Throw(error);
    }

    private static void Work(Job job)
    {
        int i;
        while ((i = Interlocked.Increment(ref job.Next) - 1) < job.Chunks)
        {
            try { job.Body(i); }
            catch (Exception e) { Interlocked.CompareExchange(ref job.Error, e, null); }
            Interlocked.Increment(ref job.Done);
        }
    }

    private void Loop()
    {
        Job? seen = null;
        var spin = (long)(SpinSeconds * Stopwatch.Frequency);
        while (true)
        {
            var since = Stopwatch.GetTimestamp();
            Job? job;
            while ((job = Volatile.Read(ref _job)) == seen && !_stopping)
            {
                if (Stopwatch.GetTimestamp() - since < spin) Thread.SpinWait(32);
                else
                    lock (_gate)
                    {
                        Interlocked.Increment(ref _sleepers);
                        while (Volatile.Read(ref _job) == seen && !_stopping) Monitor.Wait(_gate);
                        Interlocked.Decrement(ref _sleepers);
                    }
            }
            if (_stopping) return;
            seen = job;
            Work(job!);
        }
    }

    public void Dispose()
    {
        if (_stopping) return;
        _stopping = true;
        lock (_gate) Monitor.PulseAll(_gate);
        foreach (var worker in _workers) worker?.Join();
    }
}
