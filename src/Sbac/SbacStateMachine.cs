using System.Buffers;
using Chainspace.Consensus;
using Chainspace.Core;

namespace Chainspace.Sbac;

/// <summary>
/// The S-BAC ledger as the application of a shard's PBFT replica: each committed batch's requests are
/// S-BAC commands; each request's reply is its <see cref="LedgerReply"/>; at the end of a batch the
/// replica signs the batch's votes once and addresses them, per concerned shard, to the outbox.
/// </summary>
public sealed class SbacStateMachine : IReplicatedStateMachine
{
    private readonly ShardLedger _ledger;
    private readonly VoteSigner _signer;
    private readonly SbacOutbox _outbox;
    private readonly int[] _indexes;
    private readonly byte[] _reply = new byte[LedgerReply.Size];

    public SbacStateMachine(ShardLedger ledger, VoteSigner signer, SbacOutbox outbox)
    {
        _ledger = ledger ?? throw new ArgumentNullException(nameof(ledger));
        _signer = signer ?? throw new ArgumentNullException(nameof(signer));
        _outbox = outbox ?? throw new ArgumentNullException(nameof(outbox));
        _indexes = new int[ledger.BatchVotesCapacity];
    }

    public ShardLedger Ledger => _ledger;
    public SbacOutbox Outbox => _outbox;

    /// <summary>Called at the end of every executed batch, while the ledger still holds that batch's votes
    /// and decisions (one replica step can execute several batches): the driver feeds its initiator here.</summary>
    public Action<ShardLedger>? BatchExecuted { get; set; }

    public void BeginBatch(ulong sequence) => _ledger.BeginBatch(sequence);

    public void Execute(ulong sequence, ulong client, ulong requestNumber, ReadOnlySpan<byte> operation, IBufferWriter<byte> reply)
    {
        var result = _ledger.Execute(operation);
        result.WriteTo(_reply);
        reply.Write(_reply);
    }

    public void EndBatch(ulong sequence)
    {
        _ledger.EndBatch(sequence);
        var votes = _ledger.BatchVotes;
        if (_signer.SignBatch(sequence, votes))
        {
            // One message per destination shard, holding only the votes that concern it.
            for (uint shard = 0; shard < _ledger.ShardCount; shard++)
            {
                int n = 0;
                for (int i = 0; i < votes.Length; i++)
                {
                    if (_ledger.ConcernedShardsOfVote(i).Contains(shard)) _indexes[n++] = i;
                }
                if (n == 0) continue;
                var payload = _outbox.BeginPayload(out int offset);
                _signer.WriteMessage(payload, votes, _indexes.AsSpan(0, n));
                _outbox.AddVotes(shard, offset);
            }
        }
        foreach (var d in _ledger.BatchDecisions) _outbox.AddDecided(d.TransactionId, d.Decision);
        BatchExecuted?.Invoke(_ledger);
    }

    public Hash256 StateDigest(ulong sequence) => _ledger.StateDigest(sequence);

    public void WriteSnapshot(IBufferWriter<byte> destination) => _ledger.WriteSnapshot(destination, _ledger.BatchSequence);

    /// <summary>The replica checks the digest afterwards and refetches on a mismatch, so a snapshot that
    /// does not parse simply leaves the state as it was.</summary>
    public void RestoreSnapshot(ReadOnlySpan<byte> snapshot, ulong sequence) => _ledger.TryRestoreSnapshot(snapshot, out _, out _);
}
