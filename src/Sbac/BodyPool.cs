using System.Numerics;
using Chainspace.Core;

namespace Chainspace.Sbac;

/// <summary>
/// Power-of-two byte buffers with one owner (an initiator or a ledger), for transaction bodies held while
/// a transaction is in flight. Unlike <c>ArrayPool.Shared</c>, it never drops a returned buffer, so with
/// thousands of transactions in flight the steady state allocates nothing; it holds at most what the
/// owner's own bound on transactions in flight lets it.
/// </summary>
internal sealed class BodyPool
{
    private const int LevelMin = 6;   // 64 bytes
    private readonly Stack<byte[]>[] _levels = new Stack<byte[]>[32];

    public int Outstanding { get; private set; }

    public byte[] Rent(int length)
    {
        Invariant.Check(length >= 0);
        int level = Math.Max(LevelMin, 32 - BitOperations.LeadingZeroCount((uint)Math.Max(length - 1, 0)));
        var stack = _levels[level] ??= new Stack<byte[]>();
        Outstanding++;
        return stack.Count > 0 ? stack.Pop() : new byte[1 << level];
    }

    public void Return(byte[] buffer)
    {
        Invariant.Check(BitOperations.IsPow2(buffer.Length) && buffer.Length >= 1 << LevelMin);
        Invariant.Check(Outstanding > 0);
        Outstanding--;
        _levels[BitOperations.Log2((uint)buffer.Length)].Push(buffer);
    }
}
