using Chainspace.Core;

namespace Chainspace.Consensus;

/// <summary>
/// Client side of PBFT replies: a result is accepted once f+1 distinct replicas sent the same
/// (status, result), because at least one of them is honest. Tracks many outstanding request numbers of
/// one client. Replies must come over authenticated channels (the transport names the replica); the
/// collector ignores the replica field inside the reply and trusts only <c>from</c>.
/// </summary>
public sealed class ReplyCollector
{
    private sealed class Pending
    {
        public readonly Hash256[] Results;
        public readonly bool[] Has;

        public Pending(int n)
        {
            Results = new Hash256[n];
            Has = new bool[n];
        }
    }

    private readonly int _n;
    private readonly int _weakQuorum;
    private readonly int _resultBytesMax;
    private readonly Dictionary<ulong, Pending> _pending = new();

    public ReplyCollector(int replicas, int resultBytesMax = 1 << 20)
    {
        _n = replicas;
        _weakQuorum = (replicas - 1) / 3 + 1;
        _resultBytesMax = resultBytesMax;
    }

    public int Outstanding => _pending.Count;
    public long Rejected { get; private set; }

    /// <summary>Starts collecting for a request number (idempotent).</summary>
    public void Expect(ulong requestNumber)
    {
        if (!_pending.ContainsKey(requestNumber)) _pending.Add(requestNumber, new Pending(_n));
    }

    /// <summary>
    /// Feeds one reply from replica <paramref name="from"/>. Returns true exactly once per request number,
    /// when the (f+1)-th matching reply arrives; <paramref name="status"/> is then the agreed status.
    /// </summary>
    public bool TryAccept(int from, ReadOnlySpan<byte> replyMessage, ulong client, out ulong requestNumber, out ReplyStatus status, out ReadOnlySpan<byte> result)
    {
        requestNumber = 0;
        status = default;
        result = default;
        if ((uint)from >= (uint)_n || !Wire.TryReadReply(replyMessage, _resultBytesMax, out var reply) || reply.Client != client)
        {
            Rejected++;
            return false;
        }
        if (!_pending.TryGetValue(reply.RequestNumber, out var p)) return false;
        Span<byte> preimage = stackalloc byte[Hash256.Size];
        var digest = Hashing.Sha256(reply.Result);
        digest.WriteTo(preimage);
        preimage[0] ^= (byte)reply.Status; // status and result must both match
        var key = new Hash256(preimage);
        // A replica's latest reply replaces its earlier one: after a lost reply it may answer a
        // retransmission with "already executed" instead of the result, and those must still add up.
        if (p.Has[from] && p.Results[from] == key) return false;
        p.Results[from] = key;
        p.Has[from] = true;
        int matching = 0;
        for (int i = 0; i < _n; i++)
        {
            if (p.Has[i] && p.Results[i] == key) matching++;
        }
        if (matching < _weakQuorum) return false;
        _pending.Remove(reply.RequestNumber);
        requestNumber = reply.RequestNumber;
        status = reply.Status;
        result = reply.Result;
        return true;
    }
}
