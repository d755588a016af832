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
    // Votes of this batch that a client asked receipts for: (first vote index, vote count, client), in execution order.
    private readonly List<(int First, int Count, ulong Client)> _receiptVotes = new();

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

    /// <summary>
    /// Which clients get their own transactions' signed votes after each batch (the material of their receipts:
    /// f+1 matching votes of a shard are its LOCALPREPARED proof). Null or false: none, and no cost.
    /// </summary>
    public Func<ulong, bool>? SendsReceiptsTo { get; set; }

    public void BeginBatch(ulong sequence) => _ledger.BeginBatch(sequence);

    public void Execute(ulong sequence, ulong client, ulong requestNumber, ReadOnlySpan<byte> operation, IBufferWriter<byte> reply)
    {
        int votesBefore = _ledger.BatchVotes.Length;
        var result = _ledger.Execute(operation);
        int votes = _ledger.BatchVotes.Length - votesBefore;
        if (votes > 0 && SendsReceiptsTo is { } wants && wants(client)) _receiptVotes.Add((votesBefore, votes, client));
        result.WriteTo(_reply);
        reply.Write(_reply);
    }

    public void EndBatch(ulong sequence)
    {
        _ledger.EndBatch(sequence);
        var votes = _ledger.BatchVotes;
        if (_signer.SignBatch(sequence, votes))
        {
            // One message per destination shard, holding only the votes that concern it (and, for this shard itself,
            // only those its replicas use: see ShardLedger.OwnShardUsesVote).
            for (uint shard = 0; shard < _ledger.ShardCount; shard++)
            {
                int n = 0;
                bool own = shard == _ledger.Shard;
                for (int i = 0; i < votes.Length; i++)
                {
                    if (_ledger.ConcernedShardsOfVote(i).Contains(shard) && (!own || _ledger.OwnShardUsesVote(i))) _indexes[n++] = i;
                }
                if (n == 0) continue;
                var payload = _outbox.BeginPayload(out int offset);
                _signer.WriteMessage(payload, votes, _indexes.AsSpan(0, n));
                _outbox.AddVotes(shard, offset);
            }
            AddReceiptVotes(votes);
        }
        _receiptVotes.Clear();
        foreach (var d in _ledger.BatchDecisions) _outbox.AddDecided(d.TransactionId, d.Decision);
        BatchExecuted?.Invoke(_ledger);
    }

    /// <summary>One message per client that asked for receipts, with only its own transactions' votes.</summary>
    private void AddReceiptVotes(ReadOnlySpan<VoteEntry> votes)
    {
        for (int i = 0; i < _receiptVotes.Count; i++)
        {
            ulong client = _receiptVotes[i].Client;
            bool earlier = false;
            for (int j = 0; j < i && !earlier; j++) earlier = _receiptVotes[j].Client == client;
            if (earlier) continue;   // sent with that client's first entry
            int n = 0;
            for (int j = i; j < _receiptVotes.Count; j++)
            {
                var (first, count, owner) = _receiptVotes[j];
                if (owner != client) continue;
                for (int k = 0; k < count; k++) _indexes[n++] = first + k;
            }
            var payload = _outbox.BeginPayload(out int offset);
            _signer.WriteMessage(payload, votes, _indexes.AsSpan(0, n));
            _outbox.AddVotesToClient(client, offset);
        }
    }

    public Hash256 StateDigest(ulong sequence) => _ledger.StateDigest(sequence);

    public void WriteSnapshot(IBufferWriter<byte> destination) => _ledger.WriteSnapshot(destination, _ledger.BatchSequence);

    public Hash256 WriteCheckpoint(ulong sequence, IBufferWriter<byte> snapshot) => _ledger.WriteCheckpoint(snapshot, sequence);

    /// <summary>The replica checks the digest afterwards and refetches on a mismatch, so a snapshot that
    /// does not parse simply leaves the state as it was.</summary>
    public void RestoreSnapshot(ReadOnlySpan<byte> snapshot, ulong sequence) => _ledger.TryRestoreSnapshot(snapshot, out _, out _);
}
