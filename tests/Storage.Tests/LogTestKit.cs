using Chainspace.Storage.Log;

namespace Chainspace.Storage.Tests;

/// <summary>Records the tests append, and how to read a log back as plain data.</summary>
public static class LogTestKit
{
    public readonly record struct Written(long Lsn, ulong Sequence, byte[] Payload);
    public readonly record struct Read(long Lsn, byte Type, ulong Sequence, byte[] Payload);

    /// <summary>A payload with no zero byte, so "bytes dropped" (up to the last non-zero byte) is exact.</summary>
    public static byte[] Payload(ulong sequence, int length)
    {
        var bytes = new byte[length];
        for (int i = 0; i < length; i++) bytes[i] = (byte)(1 + (int)((sequence * 31 + (ulong)i * 7) % 251));
        return bytes;
    }

    public static List<Read> ReadAll(AppendLog log)
    {
        var records = new List<Read>();
        foreach (var record in log.ReadAll()) records.Add(new Read(record.Lsn, record.Type, record.Sequence, record.Payload.ToArray()));
        return records;
    }

    public static void AssertSame(IReadOnlyList<Written> expected, IReadOnlyList<Read> actual, int count)
    {
        Assert.Equal(count, actual.Count);
        for (int i = 0; i < count; i++)
        {
            Assert.Equal(expected[i].Lsn, actual[i].Lsn);
            Assert.Equal(expected[i].Sequence, actual[i].Sequence);
            Assert.Equal(expected[i].Payload, actual[i].Payload);
        }
    }
}
