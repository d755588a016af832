using Chainspace.Consensus;
using Chainspace.Core;
using Chainspace.Core.Codec;

namespace Chainspace.Simulation;

/// <summary>
/// Misbehaviour layered over a replica that otherwise runs the real code: rewrites what it sends (per
/// destination, so it can equivocate) and injects replayed, forged and bogus messages. It only ever signs
/// with its own key.
/// </summary>
public sealed class Byzantine
{
    private const int ReplayMemory = 256;
    private readonly IByzantineHost _host;
    private readonly ByzantineMode _mode;
    private readonly SimRandom _random;
    private readonly List<byte[]> _seen = new();
    private readonly Dictionary<(ulong, ulong), byte[]> _equivocations = new();

    public Byzantine(IByzantineHost host, ByzantineMode mode, SimRandom random)
    {
        _host = host;
        _mode = mode;
        _random = random;
    }

    private ShardContext Context => _host.Context;

    public void Observe(byte[] message)
    {
        if (!_mode.HasFlag(ByzantineMode.Replay)) return;
        if (_seen.Count < ReplayMemory) _seen.Add(message);
        else _seen[_random.Next(ReplayMemory)] = message;
    }

    public void OnTick()
    {
        int n = Context.N;
        if (_mode.HasFlag(ByzantineMode.Replay) && _seen.Count > 0 && _random.Chance(0.3))
        {
            var old = _seen[_random.Next(_seen.Count)];
            // Requests are unsigned (the application authenticates content), so a garbled request would be
            // a forged request in a correct client's name, which this design does not defend against.
            bool garble = _random.Chance(0.5) && old[0] != (byte)MessageType.Request;
            _host.SendRaw(_random.Next(n), garble ? Garble(old) : old);
        }
        if (_mode.HasFlag(ByzantineMode.BadVotes) && _random.Chance(0.3)) SendBadVote();
    }

    /// <summary>The message this replica sends to <paramref name="dest"/> instead of <paramref name="message"/> (null: nothing).</summary>
    public byte[]? Rewrite(int dest, byte[] message)
    {
        if (!Wire.TryPeekType(message, out var type)) return message;
        if (type == MessageType.PrePrepare && Wire.TryReadPrePrepare(message, int.MaxValue, out var pp) && pp.Signer == _host.Index)
        {
            bool other = (dest + (int)pp.Sequence) % 2 == 0;
            if (_mode.HasFlag(ByzantineMode.Equivocate) && other) return EquivocatingPrePrepare(pp);
            if (_mode.HasFlag(ByzantineMode.SameDigestOtherBody) && other) return SameDigestOtherBody(pp);
        }
        if (type == MessageType.NewView && _mode.HasFlag(ByzantineMode.ForgeNewView)) return ForgedNewView(message) ?? message;
        return message;
    }

    private byte[] BogusBody(ReadOnlySpan<byte> original, ulong tag)
    {
        // The original requests plus one made-up request: a valid batch with another digest.
        var requests = new List<(ulong Client, ulong Number, byte[] Op)>();
        var reader = new Wire.BatchReader(original);
        while (reader.TryNext(out var req)) requests.Add((req.Client, req.RequestNumber, req.Operation.ToArray()));
        requests.Add((0xB000UL + (ulong)_host.Index, tag, BitConverter.GetBytes(tag)));
        var buffer = new byte[original.Length + 64];
        var w = new SpanWriter(buffer);
        w.WriteVarUInt64((ulong)requests.Count);
        foreach (var (client, number, op) in requests)
        {
            w.WriteVarUInt64(client);
            w.WriteVarUInt64(number);
            w.WriteBlob(op);
        }
        return w.WrittenSpan.ToArray();
    }

    private byte[] EquivocatingPrePrepare(in PrePrepareMessage pp)
    {
        if (_equivocations.TryGetValue((pp.View, pp.Sequence), out var cached)) return cached;
        var body = BogusBody(pp.Body, pp.Sequence * 1000 + pp.View);
        var digest = Wire.BatchDigest(body);
        var sig = new byte[IReplicaSigner.SignatureSize];
        Statement.Sign(_host.Signer, StatementKind.PrePrepare, Context, pp.View, pp.Sequence, digest, _host.Index, sig);
        var buffer = new byte[Wire.PrePrepareLengthMax(body.Length)];
        int length = Wire.WritePrePrepare(buffer, pp.View, pp.Sequence, digest, _host.Index, sig, body);
        var message = buffer.AsSpan(0, length).ToArray();
        _equivocations[(pp.View, pp.Sequence)] = message;
        return message;
    }

    private byte[] SameDigestOtherBody(in PrePrepareMessage pp)
    {
        var body = BogusBody(pp.Body, pp.Sequence * 1000 + pp.View + 7);
        var buffer = new byte[Wire.PrePrepareLengthMax(body.Length)];
        int length = Wire.WritePrePrepare(buffer, pp.View, pp.Sequence, pp.Digest, pp.Signer, pp.Signature, body);
        return buffer.AsSpan(0, length).ToArray();
    }

    /// <summary>A NEW-VIEW with valid view changes and valid signatures whose pre-prepares carry made-up
    /// batches instead of the ones the proofs require.</summary>
    private byte[]? ForgedNewView(byte[] message)
    {
        var nv = NewViewMessage.TryDecode(message, Context, _host.ReplicaOptions.WatermarkWindow, _host.ReplicaOptions.BatchBytesMax);
        if (nv is null || nv.Replica != _host.Index) return null;
        int count = Math.Max(1, nv.Digests.Count);
        var digests = new List<Hash256>(count);
        var sigs = new List<byte[]>(count);
        var bodies = new List<byte[]>(count);
        for (int i = 0; i < count; i++)
        {
            ulong seq = nv.MinSequence + 1 + (ulong)i;
            var body = BogusBody([0], seq * 7919 + nv.View);
            var digest = Wire.BatchDigest(body);
            var sig = new byte[IReplicaSigner.SignatureSize];
            Statement.Sign(_host.Signer, StatementKind.PrePrepare, Context, nv.View, seq, digest, _host.Index, sig);
            digests.Add(digest);
            sigs.Add(sig);
            bodies.Add(body);
        }
        var forged = NewViewMessage.CreateSigned(_host.Signer, Context, nv.View, _host.Index, nv.ViewChanges.ToList(), nv.MinSequence, digests, sigs, bodies);
        return forged.Encode();
    }

    private void SendBadVote()
    {
        var replica = _host.Replica;
        Span<byte> random = stackalloc byte[Hash256.Size];
        _random.NextBytes(random);
        var digest = new Hash256(random);
        ulong seq = replica.LastExecuted + 1 + (ulong)_random.Next(3);
        var type = _random.Chance(0.5) ? MessageType.Prepare : MessageType.Commit;
        var kind = type == MessageType.Prepare ? StatementKind.Prepare : StatementKind.Commit;
        var sig = new byte[IReplicaSigner.SignatureSize];
        Statement.Sign(_host.Signer, kind, Context, replica.View, seq, digest, _host.Index, sig);
        var buffer = new byte[Wire.VoteLengthMax];
        int length = Wire.WriteVote(buffer, type, replica.View, seq, digest, _host.Index, sig);
        _host.SendRaw(_random.Next(Context.N), buffer.AsSpan(0, length).ToArray());
    }

    /// <summary>A forged or corrupted copy: flipped bytes (a bad signature or a malformed message).</summary>
    private byte[] Garble(byte[] message)
    {
        var copy = (byte[])message.Clone();
        if (copy.Length > 1) copy[1 + _random.Next(copy.Length - 1)] ^= (byte)(1 + _random.Next(255));
        return copy;
    }
}

/// <summary>What <see cref="Byzantine"/> needs from the replica it subverts (single- or multi-shard driver).</summary>
public interface IByzantineHost
{
    int Index { get; }
    IReplicaSigner Signer { get; }
    Replica Replica { get; }
    ShardContext Context { get; }
    ReplicaOptions ReplicaOptions { get; }
    /// <summary>Sends a message to replica <paramref name="to"/> of the same shard, bypassing the replica.</summary>
    void SendRaw(int to, byte[] message);
}
