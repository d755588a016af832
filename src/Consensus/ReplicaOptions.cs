namespace Chainspace.Consensus;

/// <summary>
/// Protocol parameters. Every replica of a shard must use the same <see cref="CheckpointInterval"/>,
/// <see cref="WatermarkWindow"/> and <see cref="ClientWindow"/> (they shape proofs and replicated state);
/// the rest is local tuning. Times are in ticks: the driver decides what a tick is.
/// </summary>
public sealed record ReplicaOptions
{
    /// <summary>The primary cuts a batch at this many requests...</summary>
    public int BatchRequestsMax { get; init; } = 1024;
    /// <summary>...or at this many encoded bytes...</summary>
    public int BatchBytesMax { get; init; } = 256 * 1024;
    /// <summary>...or when the oldest queued request has waited this long.</summary>
    public int BatchDelayTicks { get; init; } = 1;
    /// <summary>Batches the primary keeps in flight (pre-prepared but not yet executed).</summary>
    public int PipelineDepth { get; init; } = 16;
    /// <summary>C: a checkpoint every C sequence numbers.</summary>
    public int CheckpointInterval { get; init; } = 32;
    /// <summary>L: sequence numbers accepted above the stable checkpoint (high watermark = h + L).</summary>
    public int WatermarkWindow { get; init; } = 64;
    /// <summary>Request numbers per client remembered for exactly-once (a multiple of 64).</summary>
    public int ClientWindow { get; init; } = 4096;
    /// <summary>Largest operation accepted in a request.</summary>
    public int RequestBytesMax { get; init; } = 64 * 1024;
    /// <summary>Requests queued (not yet in a batch) before new ones are dropped.</summary>
    public int PendingRequestsMax { get; init; } = 65536;
    /// <summary>Largest state snapshot a replica accepts by state transfer (what it must buffer to check the digest).</summary>
    public int SnapshotBytesMax { get; init; } = Array.MaxLength;
    /// <summary>Snapshots move in pieces of at most this many bytes: one log record, one state-transfer message each,
    /// so neither the driver's log segments nor its transport frames bound the state's size.</summary>
    public int SnapshotChunkBytes { get; init; } = 1 << 20;
    /// <summary>A queued request older than this starts a view change.</summary>
    public int RequestTimeoutTicks { get; init; } = 100;
    /// <summary>First view-change timeout; doubled after each view change that does not complete.</summary>
    public int ViewChangeTimeoutTicks { get; init; } = 100;
    /// <summary>Cap on the doubled view-change timeout.</summary>
    public int ViewChangeTimeoutMaxTicks { get; init; } = 1600;
    /// <summary>How often a replica broadcasts its status (peers retransmit what it lacks).</summary>
    public int StatusIntervalTicks { get; init; } = 20;
    /// <summary>Sequence numbers retransmitted per status received.</summary>
    public int RetransmitSequencesMax { get; init; } = 8;
    /// <summary>How long a replica waits for a known-stable checkpoint to arrive through the log
    /// before fetching state, and how often it retries a fetch.</summary>
    public int StateTransferDelayTicks { get; init; } = 20;
    /// <summary>Test-only: deliberately wrong behaviour the simulator must catch. Never set in a node.</summary>
    public PlantedBug PlantedBugs { get; init; } = PlantedBug.None;

    public ReplicaOptions Validate()
    {
        Require(BatchRequestsMax is >= 1 and <= 1 << 20, nameof(BatchRequestsMax));
        Require(BatchBytesMax is >= 64 and <= 64 * 1024 * 1024, nameof(BatchBytesMax));
        Require(BatchDelayTicks >= 0, nameof(BatchDelayTicks));
        Require(CheckpointInterval >= 1, nameof(CheckpointInterval));
        Require(WatermarkWindow >= 2 * CheckpointInterval && WatermarkWindow % CheckpointInterval == 0, nameof(WatermarkWindow));
        Require(PipelineDepth >= 1 && PipelineDepth <= WatermarkWindow, nameof(PipelineDepth));
        Require(ClientWindow >= 64 && ClientWindow % 64 == 0, nameof(ClientWindow));
        Require(RequestBytesMax >= 0 && RequestBytesMax + 32 <= BatchBytesMax, nameof(RequestBytesMax));
        Require(PendingRequestsMax >= 1, nameof(PendingRequestsMax));
        Require(SnapshotBytesMax >= 1024, nameof(SnapshotBytesMax));
        Require(SnapshotChunkBytes is >= 256 and <= 64 * 1024 * 1024, nameof(SnapshotChunkBytes));
        Require(RequestTimeoutTicks >= 1 && ViewChangeTimeoutTicks >= 1, nameof(RequestTimeoutTicks));
        Require(ViewChangeTimeoutMaxTicks >= ViewChangeTimeoutTicks, nameof(ViewChangeTimeoutMaxTicks));
        Require(StatusIntervalTicks >= 1 && RetransmitSequencesMax >= 1 && StateTransferDelayTicks >= 1, nameof(StatusIntervalTicks));
        return this;
    }

    private static void Require(bool ok, string field)
    {
        if (!ok) throw new ArgumentOutOfRangeException(field, $"replica option {field} is out of range");
    }
}

/// <summary>
/// Deliberate protocol bugs for the simulator's self-test (STYLE.md §6: prove the tests can fail).
/// Each one must be caught by the simulator's invariants within the CI seed budget.
/// </summary>
[Flags]
public enum PlantedBug
{
    None = 0,
    /// <summary>A backup accepts a pre-prepare without checking that the batch hashes to the signed digest.</summary>
    SkipBatchDigestCheck = 1,
    /// <summary>A backup accepts a new-view without recomputing its pre-prepares from the view-change proofs.</summary>
    SkipNewViewProofCheck = 2,
    /// <summary>A replica executes a batch once it is prepared, without waiting for the commit quorum.</summary>
    ExecuteWhenPrepared = 4,
}
