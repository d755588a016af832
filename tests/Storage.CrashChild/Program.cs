using Chainspace.Storage.Devices;
using Chainspace.Storage.Log;

namespace Chainspace.Storage.CrashChild;

/// <summary>
/// Appends records 1, 2, 3, … to a log in the given directory and flushes every few records; after each
/// flush returns it prints "flushed N" (N = last sequence flushed) on stdout. Runs until it is killed or has
/// appended <c>maxRecords</c>. With "recycle", it also checkpoints: once the log holds more than 2 segments it
/// drops those before the last 50 records (DeleteBefore), so segments are retired and reused.
/// Usage: CrashChild DIR SEGMENT_SIZE SEED [MAX_RECORDS [Mapped|Buffered [recycle]]]
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length < 3)
        {
            Console.Error.WriteLine("usage: Chainspace.Storage.CrashChild DIR SEGMENT_SIZE SEED [MAX_RECORDS [Mapped|Buffered [recycle]]]");
            return 2;
        }
        string directory = args[0];
        int segmentSize = int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture);
        int seed = int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture);
        long maxRecords = args.Length > 3 ? long.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture) : 10_000_000;
        var mode = args.Length > 4 ? Enum.Parse<MmapWriteMode>(args[4]) : MmapWriteMode.Mapped;
        bool recycle = args.Length > 5 && args[5] == "recycle";

        var device = new MmapDevice(directory, mode);
        using var log = AppendLog.Open(device, new LogOptions { SegmentSize = segmentSize });
        ulong next = log.HasRecords ? log.LastSequence + 1 : 1;
        var random = new Random(seed);
        var payload = new byte[CrashWorkload.MaxPayload];
        Console.Out.WriteLine("ready");
        Console.Out.Flush();
        for (long n = 0; n < maxRecords; n++, next++)
        {
            int length = CrashWorkload.Fill(next, payload);
            log.Append(CrashWorkload.RecordType, next, payload.AsSpan(0, length));
            if (random.Next(8) == 0)
            {
                log.Flush();
                Console.Out.WriteLine("flushed " + next.ToString(System.Globalization.CultureInfo.InvariantCulture));
                Console.Out.Flush();
                if (recycle && log.SegmentCount > 2 && next > 50) log.DeleteBefore(next - 50);
            }
        }
        Console.Out.WriteLine("done");
        return 0;
    }
}

/// <summary>The records the child writes, so the parent can check every recovered byte.</summary>
public static class CrashWorkload
{
    public const byte RecordType = 7;
    public const int MaxPayload = 6000;

    public static int LengthOf(ulong sequence) => 1 + (int)(sequence * 2654435761UL % MaxPayload);

    public static int Fill(ulong sequence, Span<byte> destination)
    {
        int length = LengthOf(sequence);
        ulong x = sequence * 0x9E3779B97F4A7C15UL;
        for (int i = 0; i < length; i++)
        {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            destination[i] = (byte)(x | 1);   // never zero
        }
        return length;
    }
}
