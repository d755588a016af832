using Chainspace.Core;
using Chainspace.Core.Codec;
using Chainspace.Storage.Devices;
using Chainspace.Storage.Log;
using Chainspace.Storage.Objects;

namespace Chainspace.Storage.Tests;

public sealed class ObjectStoreTests
{
    private static Hash256 Id(int n) => Hashing.Sha256(BitConverter.GetBytes(n));
    private static Hash256 Tx(int n) => Hashing.Sha256(BitConverter.GetBytes(-1 - n));

    [Fact]
    public void Lifecycle_CreateLockConsumeUnlock_StatesFollowSbac()
    {
        var store = new ObjectStore();
        Hash256[] inputs = [Id(1), Id(2)];
        Hash256[] references = [Id(3)];
        Assert.Equal(StoreResult.Ok, store.Create([.. inputs, .. references]));
        Assert.All(inputs, id => Assert.True(store.IsUsable(id)));

        Assert.Equal(StoreResult.Ok, store.TryLock([.. inputs, .. references], Tx(1)));
        Assert.False(store.IsUsable(Id(1)));
        Assert.Equal(ObjectState.Locked, store.GetState(Id(3), out var holder));
        Assert.Equal(Tx(1), holder);
        Assert.Equal(StoreResult.LockedByOther, store.TryLock([Id(3)], Tx(2)));

        // Commit: consume the inputs, release the references, create the outputs.
        Assert.Equal(StoreResult.Ok, store.Consume(inputs, Tx(1)));
        Assert.Equal(1, store.Unlock(Tx(1)));
        Assert.Equal(StoreResult.Ok, store.Create([Id(4)]));
        Assert.Equal(ObjectState.Inactive, store.GetState(Id(1)));
        Assert.Equal(ObjectState.Active, store.GetState(Id(3)));
        Assert.True(store.IsUsable(Id(4)));
        Assert.Equal(ObjectState.Absent, store.GetState(Id(99)));
        store.CheckInvariants();

        // A consumed object can never come back, nor be locked.
        Assert.Equal(StoreResult.AlreadyExists, store.Create([Id(1)]));
        Assert.Equal(StoreResult.Inactive, store.TryLock([Id(1)], Tx(3)));
        Assert.Equal(0, store.LockingTransactions);
    }

    [Fact]
    public void FailedCommands_ChangeNothing()
    {
        var store = new ObjectStore();
        store.Create([Id(1), Id(2), Id(3)]);
        store.TryLock([Id(3)], Tx(9));
        byte[] before = store.ToSnapshot(1);

        Assert.Equal(StoreResult.LockedByOther, store.TryLock([Id(1), Id(2), Id(3)], Tx(1), out int failed));
        Assert.Equal(2, failed);
        Assert.Equal(StoreResult.NotFound, store.TryLock([Id(1), Id(7)], Tx(1)));
        Assert.Equal(StoreResult.AlreadyExists, store.Create([Id(8), Id(2)], out failed));
        Assert.Equal(1, failed);
        Assert.Equal(StoreResult.Duplicate, store.Create([Id(8), Id(8)]));
        // A genesis-sized batch takes the set-based duplicate check: same answers, all or nothing.
        var many = Enumerable.Range(100, 5000).Select(i => Id(i)).ToArray();
        many[4321] = many[17];
        Assert.Equal(StoreResult.Duplicate, store.Create(many, out failed));
        Assert.Equal(4321, failed);
        Assert.Equal(ObjectState.Absent, store.GetState(Id(100)));
        Assert.Equal(StoreResult.NotLockedByTransaction, store.Consume([Id(3)], Tx(1)));
        Assert.Equal(StoreResult.NotLockedByTransaction, store.Consume([Id(1)], Tx(9)));
        Assert.Equal(StoreResult.Duplicate, store.Consume([Id(3), Id(3)], Tx(9)));
        Assert.Equal(0, store.Unlock(Tx(1)));

        Assert.Equal(before, store.ToSnapshot(1));
        store.CheckInvariants();
    }

    [Fact]
    public void Lock_SameTransactionTwice_IsIdempotent()
    {
        var store = new ObjectStore();
        store.Create([Id(1), Id(2)]);
        Assert.Equal(StoreResult.Ok, store.TryLock([Id(1), Id(1)], Tx(1)));
        Assert.Equal(StoreResult.Ok, store.TryLock([Id(1), Id(2)], Tx(1)));
        Assert.Equal(2, store.LockedCount);
        Assert.Equal(2, store.Unlock(Tx(1)));
        store.CheckInvariants();
    }

    /// <summary>Random commands against a reference model, with growth of both tables.</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void RandomCommands_MatchReferenceModel(int seed)
    {
        var random = new Random(seed);
        var store = new ObjectStore(capacity: 4);
        var states = new Dictionary<Hash256, (ObjectState State, Hash256 Tx)>();
        int nextObject = 0;
        for (int step = 0; step < 20_000; step++)
        {
            int op = random.Next(4);
            if (op == 0 || states.Count < 10)
            {
                var ids = Enumerable.Range(0, random.Next(1, 4)).Select(_ => Id(random.Next(2) == 0 && nextObject > 0 ? random.Next(nextObject) : nextObject++)).ToArray();
                var expected = ids.Any(states.ContainsKey) ? StoreResult.AlreadyExists : ids.Distinct().Count() < ids.Length ? StoreResult.Duplicate : StoreResult.Ok;
                var result = store.Create(ids);
                if (expected == StoreResult.Ok) Assert.Equal(StoreResult.Ok, result);
                else Assert.NotEqual(StoreResult.Ok, result);
                if (result == StoreResult.Ok) foreach (var id in ids) states[id] = (ObjectState.Active, default);
            }
            else if (op == 1)
            {
                var tx = Tx(random.Next(50));
                var ids = Enumerable.Range(0, random.Next(1, 4)).Select(_ => Id(random.Next(nextObject + 2))).ToArray();
                bool ok = ids.All(id => states.TryGetValue(id, out var s) && (s.State == ObjectState.Active || (s.State == ObjectState.Locked && s.Tx == tx)));
                Assert.Equal(ok, store.TryLock(ids, tx) == StoreResult.Ok);
                if (ok) foreach (var id in ids) states[id] = (ObjectState.Locked, tx);
            }
            else if (op == 2)
            {
                var tx = Tx(random.Next(50));
                int expected = states.Count(kv => kv.Value.State == ObjectState.Locked && kv.Value.Tx == tx);
                Assert.Equal(expected, store.Unlock(tx));
                foreach (var id in states.Where(kv => kv.Value.State == ObjectState.Locked && kv.Value.Tx == tx).Select(kv => kv.Key).ToList()) states[id] = (ObjectState.Active, default);
            }
            else
            {
                var tx = Tx(random.Next(50));
                var held = states.Where(kv => kv.Value.State == ObjectState.Locked && kv.Value.Tx == tx).Select(kv => kv.Key).ToList();
                var ids = held.Take(random.Next(held.Count + 1)).ToArray();
                Assert.Equal(StoreResult.Ok, store.Consume(ids, tx));
                foreach (var id in ids) states[id] = (ObjectState.Inactive, default);
            }
            if (step % 997 == 0) store.CheckInvariants();
        }
        store.CheckInvariants();
        foreach (var (id, (state, tx)) in states)
        {
            Assert.Equal(state, store.GetState(id, out var holder));
            Assert.Equal(state == ObjectState.Locked ? tx : default, holder);
        }
        Assert.Equal(states.Count, store.Count);

        var copy = ObjectStore.LoadSnapshot(store.ToSnapshot(42), out ulong sequence);
        Assert.Equal(42UL, sequence);
        copy.CheckInvariants();
        Assert.Equal(store.ToSnapshot(42), copy.ToSnapshot(42));
    }

    [Fact]
    public void Snapshot_SameStateDifferentHistory_SameBytes()
    {
        var a = new ObjectStore();
        var b = new ObjectStore(capacity: 2);
        for (int i = 0; i < 100; i++) a.Create([Id(i)]);
        for (int i = 99; i >= 0; i--) b.Create([Id(i)]);
        a.TryLock([Id(5), Id(6)], Tx(1));
        b.TryLock([Id(6)], Tx(1));
        b.TryLock([Id(5)], Tx(1));
        b.TryLock([Id(7)], Tx(2));
        b.Unlock(Tx(2));
        a.TryLock([Id(8)], Tx(3));
        a.Consume([Id(8)], Tx(3));
        b.TryLock([Id(8)], Tx(4));
        b.Consume([Id(8)], Tx(4));
        Assert.Equal(a.ToSnapshot(7), b.ToSnapshot(7));
        var writer = new System.Buffers.ArrayBufferWriter<byte>();
        a.WriteSnapshot(7, writer);
        Assert.Equal(a.ToSnapshot(7), writer.WrittenSpan.ToArray());
        Assert.Equal(a.GetSnapshotLength(), writer.WrittenCount);
    }

    [Fact]
    public void Snapshot_AnyDamage_IsRejected()
    {
        var store = new ObjectStore();
        store.Create([Id(1), Id(2), Id(3)]);
        store.TryLock([Id(2)], Tx(1));
        store.TryLock([Id(3)], Tx(1));
        store.Consume([Id(3)], Tx(1));
        byte[] good = store.ToSnapshot(5);
        Assert.Equal(FormatVersion.V1, good[0]);
        Assert.Equal((byte)HashAlgorithmId.Sha256, good[1]);
        for (int i = 0; i < good.Length; i++)
        {
            var damaged = (byte[])good.Clone();
            damaged[i] ^= 0x10;
            Assert.False(ObjectStore.TryLoadSnapshot(damaged, out _, out _, out var failure), $"flip at {i} accepted");
            Assert.True(failure.IsError);
        }
        for (int length = 0; length < good.Length; length++) Assert.False(ObjectStore.TryLoadSnapshot(good.AsSpan(0, length), out _, out _, out _));
        Assert.Throws<CodecException>(() => ObjectStore.LoadSnapshot(good.AsSpan(1), out _));
    }

    [Fact]
    public void SnapshotFiles_SaveLoadAndRestoreWithLogReplay()
    {
        using var directory = new TempDirectory("snapshots");
        string snapshots = Path.Combine(directory.Path, "snap");
        var device = new MmapDevice(Path.Combine(directory.Path, "log"));
        const byte StoreRecord = 9;
        var live = new ObjectStore();
        var buffer = new byte[4096];
        ulong sequence = 0;

        void Apply(StoreCommandKind kind, Hash256 tx, Hash256[] ids, AppendLog log)
        {
            sequence++;
            int n = StoreCommand.Encode(kind, tx, ids, buffer);
            Assert.Equal(StoreResult.Ok, live.Apply(buffer.AsSpan(0, n)));
            log.Append(StoreRecord, sequence, buffer.AsSpan(0, n));
            log.Append(1, sequence, "not a store record"u8);
        }

        using (var log = AppendLog.Open(device))
        {
            Apply(StoreCommandKind.Create, default, [Id(1), Id(2), Id(3)], log);
            Apply(StoreCommandKind.Lock, Tx(1), [Id(1), Id(2)], log);
            SnapshotFiles.Save(snapshots, live, sequence);
            Apply(StoreCommandKind.Consume, Tx(1), [Id(1)], log);
            Apply(StoreCommandKind.Unlock, Tx(1), [], log);
            Apply(StoreCommandKind.Create, Tx(1), [Id(4)], log);
            log.Flush();
        }
        using (var log = AppendLog.Open(new MmapDevice(Path.Combine(directory.Path, "log"))))
        {
            var restored = SnapshotFiles.Restore(snapshots, log, StoreRecord, out ulong at, out int replayed);
            Assert.Equal(2UL, at);
            Assert.Equal(3, replayed);
            Assert.Equal(live.ToSnapshot(sequence), restored.ToSnapshot(sequence));
        }

        // A damaged newest snapshot is skipped for an older one, and said so.
        SnapshotFiles.Save(snapshots, live, sequence);
        byte[] newest = File.ReadAllBytes(SnapshotFiles.PathFor(snapshots, sequence));
        newest[^1] ^= 1;
        File.WriteAllBytes(SnapshotFiles.PathFor(snapshots, sequence), newest);
        Assert.True(SnapshotFiles.TryLoadLatest(snapshots, out var older, out ulong olderAt, out var skipped));
        Assert.Equal(2UL, olderAt);
        Assert.Single(skipped);
        Assert.Equal(ObjectState.Locked, older!.GetState(Id(1)));
        Assert.Equal(1, SnapshotFiles.Prune(snapshots, keep: 1));
    }

    [Fact]
    public void StoreCommand_MalformedRecords_Rejected()
    {
        var buffer = new byte[StoreCommand.GetEncodedLength(2)];
        int n = StoreCommand.Encode(StoreCommandKind.Lock, Tx(1), [Id(1), Id(2)], buffer);
        Assert.Equal(buffer.Length, n);
        Assert.True(StoreCommand.TryDecode(buffer, out var command, out _));
        Assert.Equal(2, command.Count);
        Assert.Equal(Id(2), command.GetId(1));
        for (int length = 0; length < n; length++) Assert.False(StoreCommand.TryDecode(buffer.AsSpan(0, length), out _, out _));
        Assert.False(StoreCommand.TryDecode([.. buffer, 0], out _, out _));
        var badKind = (byte[])buffer.Clone();
        badKind[2] = 9;
        Assert.False(StoreCommand.TryDecode(badKind, out _, out _));
        var badVersion = (byte[])buffer.Clone();
        badVersion[0] = 2;
        Assert.False(StoreCommand.TryDecode(badVersion, out _, out _));
        Assert.Throws<ArgumentException>(() => StoreCommand.Encode(StoreCommandKind.Unlock, Tx(1), [Id(1)], new byte[100]));
    }

    [Fact]
    public void Lookups_AndSteadyStateLockUnlock_AllocateNothing()
    {
        var store = new ObjectStore(capacity: 10_000);
        var ids = Enumerable.Range(0, 10_000).Select(Id).ToArray();
        store.Create(ids);
        var tx = Tx(1);
        for (int round = 0; round < 3; round++)
        {
            store.TryLock(ids.AsSpan(0, 3), tx);
            store.Unlock(tx);
        }
        int usable = 0;
        long allocated = Allocations.Fewest(() =>
        {
            usable = 0;
            for (int round = 0; round < 1000; round++)
            {
                foreach (var id in ids.AsSpan(0, 100)) if (store.IsUsable(id)) usable++;
                store.TryLock(ids.AsSpan(round % 9000, 3), tx);
                store.GetState(ids[round % 9000], out _);
                store.Unlock(tx);
            }
        });
        Assert.Equal(0, allocated);
        Assert.Equal(100_000, usable);
    }
}
