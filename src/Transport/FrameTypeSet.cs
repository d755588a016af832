namespace Chainspace.Transport;

/// <summary>
/// A set of frame types (one bit per byte value). The transport does not know what the types mean; the
/// node configures which types replicas and clients may send, and anything else closes the connection.
/// </summary>
public sealed class FrameTypeSet
{
    private readonly ulong[] _bits = new ulong[4];

    public static FrameTypeSet Range(byte first, byte last)
    {
        if (first > last) throw new ArgumentException($"frame type range {first}..{last} is empty");
        var set = new FrameTypeSet();
        for (int t = first; t <= last; t++) set.Add((byte)t);
        return set;
    }

    public static FrameTypeSet Of(params byte[] types)
    {
        var set = new FrameTypeSet();
        foreach (var t in types) set.Add(t);
        return set;
    }

    public FrameTypeSet Add(byte type)
    {
        _bits[type >> 6] |= 1UL << (type & 63);
        return this;
    }

    public bool Contains(byte type) => (_bits[type >> 6] & (1UL << (type & 63))) != 0;

    /// <summary>True if any member falls in the transport's reserved control range.</summary>
    internal bool IntersectsControlRange()
    {
        for (int t = Framing.FrameHeader.ControlTypeFirst; t <= byte.MaxValue; t++)
            if (Contains((byte)t)) return true;
        return false;
    }
}
