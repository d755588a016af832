using Chainspace.Storage.Objects;
using System.Buffers;
using Chainspace.Contracts;
using Chainspace.Core;
using Chainspace.Core.Codec;
using Chainspace.Core.Model;
using Chainspace.Core.Validation;

namespace Chainspace.Sbac.Tests;

public class SnapshotTests
{
    private static readonly ShardMap Map = new(2);
    private static readonly ChainObject[] Tokens = Dummy.GenesisTokens("snap", 32).ToArray();

    private static (ShardLedger Ledger, ObjectStore Objects) NewLedger()
    {
        var objects = new ObjectStore(256);
        foreach (var t in Tokens.Where(t => Map.ShardOf(t.Id) == 0)) objects.Create([t.Id]);
        var ledger = new ShardLedger(new ShardLedgerOptions
        {
            Shard = 0, Map = Map, Contracts = new ContractRegistry(Dummy.Instance), TransactionsCapacity = 64,
        }, objects, new ScriptedVerifier());
        return (ledger, objects);
    }

    private static void Prepare(ShardLedger ledger, ulong sequence, Transaction tx)
    {
        var op = new ArrayBufferWriter<byte>();
        SbacCommand.WritePrepare(op, tx.Encode());
        ledger.BeginBatch(sequence);
        ledger.Execute(op.WrittenSpan);
        ledger.EndBatch(sequence);
    }

    private static byte[] Snapshot(ShardLedger ledger, ulong sequence)
    {
        var buffer = new ArrayBufferWriter<byte>();
        ledger.WriteSnapshot(buffer, sequence);
        return buffer.WrittenSpan.ToArray();
    }

    private static (ShardLedger, ObjectStore) WithHistory()
    {
        var (ledger, objects) = NewLedger();
        var mine = Tokens.Where(t => Map.ShardOf(t.Id) == 0).ToArray();
        var theirs = Tokens.Where(t => Map.ShardOf(t.Id) == 1).ToArray();
        Prepare(ledger, 1, Dummy.Spend([mine[0]]));              // decided: consumed + created
        Prepare(ledger, 2, Dummy.Spend([mine[1], theirs[0]]));   // pending: locked, body kept
        return (ledger, objects);
    }

    [Fact]
    public void Snapshot_RestoredIntoFreshLedger_HasTheSameDigestAndBehaviour()
    {
        var (source, _) = WithHistory();
        byte[] snapshot = Snapshot(source, 2);
        var (target, objects) = NewLedger();
        Assert.NotEqual(source.StateDigest(2), target.StateDigest(2));
        Assert.True(target.TryRestoreSnapshot(snapshot, out ulong sequence, out _));
        Assert.Equal(2ul, sequence);
        Assert.Equal(source.StateDigest(2), target.StateDigest(2));
        Assert.Equal(ShardLedger.DigestOf(snapshot), target.StateDigest(2));
        Assert.Equal(source.TransactionCount, target.TransactionCount);
        target.CheckInvariants();
        Assert.Equal(1, target.Objects.LockingTransactions);   // the restored ledger owns a new store
        Assert.NotSame(objects, target.Objects);
    }

    [Fact]
    public void Checkpoint_WritesTheSnapshotAndReturnsTheStateDigest()
    {
        var (a, _) = WithHistory();
        var (b, _) = WithHistory();
        var checkpoint = new ArrayBufferWriter<byte>(16);   // grows: the one exact-size request must fit it
        checkpoint.Write(new byte[] { 0xEE });               // written after what the buffer already holds
        var digest = a.WriteCheckpoint(checkpoint, 2);
        Assert.Equal(b.StateDigest(2), digest);
        Assert.Equal(digest, a.StateDigest(2));                // served from the checkpoint, no rebuild needed
        Assert.Equal(0xEE, checkpoint.WrittenSpan[0]);
        Assert.Equal(Snapshot(b, 2), checkpoint.WrittenSpan[1..].ToArray());
        Assert.Equal(Snapshot(a, 2), checkpoint.WrittenSpan[1..].ToArray());   // built again, not copied from nothing
        Assert.Equal(ShardLedger.DigestOf(checkpoint.WrittenSpan[1..]), digest);
    }

    [Fact]
    public void Snapshot_EqualStates_EncodeEqually_DifferentStatesDiffer()
    {
        var (a, _) = WithHistory();
        var (b, _) = WithHistory();
        Assert.Equal(Snapshot(a, 2), Snapshot(b, 2));
        Prepare(b, 3, Dummy.Spend([Tokens.Where(t => Map.ShardOf(t.Id) == 0).ToArray()[2]]));
        Assert.NotEqual(a.StateDigest(3), b.StateDigest(3));
    }

    [Fact]
    public void Snapshot_CorruptOrTruncated_IsRejectedAndLeavesStateUnchanged()
    {
        var (source, _) = WithHistory();
        byte[] snapshot = Snapshot(source, 2);
        var (target, _) = WithHistory();
        var before = target.StateDigest(2);
        for (int cut = 0; cut < snapshot.Length; cut++)
        {
            Assert.False(target.TryRestoreSnapshot(snapshot.AsSpan(0, cut), out _, out var failure));
            Assert.True(failure.IsError);
        }
        byte[] wrongShard = (byte[])snapshot.Clone();
        wrongShard[2] = 1;
        Assert.False(target.TryRestoreSnapshot(wrongShard, out _, out var shardFailure));
        Assert.Equal(CodecError.InvalidValue, shardFailure.Error);
        Assert.False(target.TryRestoreSnapshot([.. snapshot, 0], out _, out var trailing));
        Assert.Equal(CodecError.TrailingBytes, trailing.Error);
        Assert.Equal(before, target.StateDigest(2));
    }
}
