using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using Chainspace.Consensus;
using Chainspace.Core;

namespace Chainspace.Simulation;

/// <summary>
/// The simulator's replicated application: a hash chain over every executed request, plus the set of
/// executed (client, request) pairs so exactly-once can be checked from inside the replicated state
/// (it survives snapshots and state transfer). The reply is the first 8 bytes of the chain head, so
/// divergent replicas give different replies.
/// </summary>
public sealed class LedgerApp : IReplicatedStateMachine
{
    private Hash256 _chain;
    private ulong _count;
    private readonly HashSet<(ulong, ulong)> _executed = new();
    private readonly IncrementalHash _batch = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private ulong _batchSequence;

    /// <summary>Called at the end of every batch with a digest of what executed in it.</summary>
    public Action<ulong, Hash256>? BatchExecuted { get; set; }
    /// <summary>Set if a request executed twice: an exactly-once violation.</summary>
    public string? Violation { get; private set; }
    public ulong ExecutedCount => _count;
    /// <summary>The requests of the batch being (or last) executed, for failure reports.</summary>
    public List<(ulong Client, ulong Number)> CurrentBatch { get; } = new();

    public void BeginBatch(ulong sequence)
    {
        _batchSequence = sequence;
        CurrentBatch.Clear();
        Span<byte> seq = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(seq, sequence);
        _batch.AppendData(seq);
    }

    public void Execute(ulong sequence, ulong client, ulong requestNumber, ReadOnlySpan<byte> operation, IBufferWriter<byte> reply)
    {
        if (sequence != _batchSequence) Violation ??= $"execute at {sequence} inside batch {_batchSequence}";
        if (!_executed.Add((client, requestNumber))) Violation ??= $"request ({client}, {requestNumber}) executed twice (again at {sequence})";
        Span<byte> head = stackalloc byte[Hash256.Size + 16];
        _chain.WriteTo(head);
        BinaryPrimitives.WriteUInt64LittleEndian(head[32..], client);
        BinaryPrimitives.WriteUInt64LittleEndian(head[40..], requestNumber);
        using var h = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        h.AppendData(head);
        h.AppendData(operation);
        Span<byte> digest = stackalloc byte[Hash256.Size];
        h.GetHashAndReset(digest);
        _chain = new Hash256(digest);
        _count++;
        CurrentBatch.Add((client, requestNumber));
        _batch.AppendData(head[32..]);
        _batch.AppendData(operation);
        var span = reply.GetSpan(8);
        digest[..8].CopyTo(span);
        reply.Advance(8);
    }

    public void EndBatch(ulong sequence)
    {
        Span<byte> digest = stackalloc byte[Hash256.Size];
        _batch.GetHashAndReset(digest);
        BatchExecuted?.Invoke(sequence, new Hash256(digest));
    }

    public Hash256 StateDigest(ulong sequence)
    {
        Span<byte> preimage = stackalloc byte[Hash256.Size + 8];
        _chain.WriteTo(preimage);
        BinaryPrimitives.WriteUInt64LittleEndian(preimage[32..], _count);
        return Hashing.Sha256(preimage);
    }

    public void WriteSnapshot(IBufferWriter<byte> destination)
    {
        var pairs = _executed.ToArray();
        Array.Sort(pairs);
        var span = destination.GetSpan(Hash256.Size + 16 + pairs.Length * 16);
        _chain.WriteTo(span);
        BinaryPrimitives.WriteUInt64LittleEndian(span[32..], _count);
        BinaryPrimitives.WriteUInt64LittleEndian(span[40..], (ulong)pairs.Length);
        for (int i = 0; i < pairs.Length; i++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(span[(48 + 16 * i)..], pairs[i].Item1);
            BinaryPrimitives.WriteUInt64LittleEndian(span[(56 + 16 * i)..], pairs[i].Item2);
        }
        destination.Advance(48 + pairs.Length * 16);
    }

    public void RestoreSnapshot(ReadOnlySpan<byte> snapshot, ulong sequence)
    {
        // Loads whatever parses; the replica compares StateDigest with the certified one afterwards.
        _executed.Clear();
        _chain = default;
        _count = 0;
        if (snapshot.Length < 48) return;
        _chain = Hash256.Read(snapshot);
        _count = BinaryPrimitives.ReadUInt64LittleEndian(snapshot[32..]);
        ulong pairs = BinaryPrimitives.ReadUInt64LittleEndian(snapshot[40..]);
        if (pairs > (ulong)(snapshot.Length - 48) / 16) return;
        for (int i = 0; i < (int)pairs; i++)
        {
            _executed.Add((BinaryPrimitives.ReadUInt64LittleEndian(snapshot[(48 + 16 * i)..]), BinaryPrimitives.ReadUInt64LittleEndian(snapshot[(56 + 16 * i)..])));
        }
    }
}
