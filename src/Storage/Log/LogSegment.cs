using Chainspace.Storage.Devices;

namespace Chainspace.Storage.Log;

/// <summary>The log's bookkeeping for one open segment: its storage and the sequence range it holds.</summary>
internal sealed class LogSegment(IStorageSegment storage, long baseLsn, long previousId = -1)
{
    public IStorageSegment Storage { get; } = storage;
    public long Id => Storage.Id;
    public string Name => Storage.Name;
    public long BaseLsn { get; } = baseLsn;

    /// <summary>The segment whose file this one reuses (its bytes after the records are that segment's), or -1 when it was created fresh (zeros).</summary>
    public long PreviousId { get; } = previousId;
    public bool Recycled => PreviousId >= 0;
    public bool HasRecords { get; private set; }
    public ulong FirstSequence { get; private set; }
    public ulong LastSequence { get; private set; }

    /// <summary>Where the records end once the log has moved on to the next segment (after the padding record, if any).</summary>
    public int WrittenEnd { get; set; } = -1;

    /// <summary>Complete and flushed; the device was told it gets no more writes.</summary>
    public bool WritesEnded { get; set; }

    public void Note(ulong sequence)
    {
        if (!HasRecords)
        {
            FirstSequence = sequence;
            HasRecords = true;
        }
        LastSequence = sequence;
    }
}
