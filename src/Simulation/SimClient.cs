using Chainspace.Consensus;

namespace Chainspace.Simulation;

/// <summary>
/// A correct client: pipelines up to <c>window</c> requests, sends each to the replica it believes is
/// primary, retransmits to every replica on timeout, and accepts a result on f+1 matching replies.
/// </summary>
public sealed class SimClient
{
    private readonly Simulator _sim;
    private readonly ReplyCollector _collector;
    private readonly Dictionary<ulong, long> _sentTick = new();
    private ulong _next = 1;
    private ulong _viewGuess;

    public SimClient(Simulator sim, ulong id, int total, int window)
    {
        _sim = sim;
        Id = id;
        Total = total;
        Window = window;
        _collector = new ReplyCollector(sim.Options.Replicas);
    }

    public ulong Id { get; }
    public int Total { get; }
    public int Window { get; }
    public int Completed { get; private set; }
    public bool Done => Completed == Total;
    public IEnumerable<ulong> Outstanding => _sentTick.Keys;

    public void Pump(long nowTick)
    {
        while (_sentTick.Count < Window && _next <= (ulong)Total)
        {
            ulong number = _next++;
            _collector.Expect(number);
            _sentTick[number] = nowTick;
            Send(number, toAll: false);
        }
    }

    public void OnTick(long nowTick)
    {
        foreach (var (number, sent) in _sentTick.ToArray())
        {
            if (nowTick - sent < _sim.Options.ClientRetryTicks) continue;
            _sentTick[number] = nowTick;
            Send(number, toAll: true);
        }
        Pump(nowTick);
    }

    public void OnReply(int from, byte[] reply, long nowTick)
    {
        if (Wire.TryReadReply(reply, 1 << 20, out var r) && r.View > _viewGuess) _viewGuess = r.View;
        if (!_collector.TryAccept(from, reply, Id, out ulong number, out var status, out _)) return;
        if (status == ReplyStatus.Stale) _sim.Fail($"client {Id}: request {number} refused as stale (inside its window)");
        _sentTick.Remove(number);
        Completed++;
        Pump(nowTick);
    }

    private void Send(ulong number, bool toAll)
    {
        Span<byte> op = stackalloc byte[12];
        BitConverter.TryWriteBytes(op, Id);
        BitConverter.TryWriteBytes(op[8..], (uint)number);
        var buffer = new byte[Wire.RequestLengthMax(op.Length)];
        int length = Wire.WriteRequest(buffer, Id, number, op);
        var message = buffer.AsSpan(0, length).ToArray();
        if (toAll)
        {
            for (int i = 0; i < _sim.Options.Replicas; i++) _sim.SendFromClient(Id, i, message);
        }
        else
        {
            _sim.SendFromClient(Id, (int)(_viewGuess % (ulong)_sim.Options.Replicas), message);
        }
    }
}
