using Chainspace.Storage.Devices;

namespace Chainspace.Storage.Log;

/// <summary>The log's bookkeeping for one open segment: its storage and the sequence range it holds.</summary>
internal sealed class LogSegment(IStorageSegment storage, long baseLsn)
{
    public IStorageSegment Storage { get; } = storage;
    public long Id => Storage.Id;
    public string Name => Storage.Name;
    public long BaseLsn { get; } = baseLsn;
    public bool HasRecords { get; private set; }
    public ulong FirstSequence { get; private set; }
    public ulong LastSequence { get; private set; }

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
