using System.Globalization;
using Chainspace.Core.Codec;
using Chainspace.Storage.Devices;
using Chainspace.Storage.Log;

namespace Chainspace.Storage.Objects;

/// <summary>
/// Snapshot files in a directory, one per checkpoint (<c>snapshot-00000000000000001000.snap</c>): written to
/// a temporary file, fsynced, renamed into place, and the directory fsynced, so a crash leaves either the old
/// set or the new one. Loading takes the newest that verifies and says which it skipped.
/// </summary>
public static class SnapshotFiles
{
    private const string Prefix = "snapshot-";
    private const string Suffix = ".snap";

    public static string PathFor(string directory, ulong sequence) =>
        Path.Combine(directory, Prefix + sequence.ToString("D20", CultureInfo.InvariantCulture) + Suffix);

    /// <summary>Writes the store's snapshot at <paramref name="sequence"/> durably; returns its path.</summary>
    public static string Save(string directory, ObjectStore store, ulong sequence)
    {
        ArgumentNullException.ThrowIfNull(store);
        Directory.CreateDirectory(directory);
        string path = PathFor(directory, sequence);
        string tmp = path + ".tmp";
        byte[] bytes = store.ToSnapshot(sequence);
        using (var file = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 0))
        {
            file.Write(bytes);
            file.Flush(flushToDisk: true);
        }
        File.Move(tmp, path, overwrite: true);
        Posix.SyncDirectory(directory);
        return path;
    }

    /// <summary>Snapshot sequences present, newest first.</summary>
    public static ulong[] List(string directory)
    {
        if (!Directory.Exists(directory)) return [];
        var sequences = new List<ulong>();
        foreach (string path in Directory.GetFiles(directory, Prefix + "*" + Suffix))
        {
            string name = Path.GetFileName(path);
            if (ulong.TryParse(name[Prefix.Length..^Suffix.Length], NumberStyles.None, CultureInfo.InvariantCulture, out ulong sequence)) sequences.Add(sequence);
        }
        sequences.Sort();
        sequences.Reverse();
        return sequences.ToArray();
    }

    /// <summary>
    /// Loads the newest snapshot that verifies. Returns false when there is none (a fresh replica).
    /// <paramref name="skipped"/> names the newer ones that did not verify, with the reason.
    /// </summary>
    public static bool TryLoadLatest(string directory, out ObjectStore? store, out ulong sequence, out List<string> skipped)
    {
        skipped = new List<string>();
        foreach (ulong candidate in List(directory))
        {
            string path = PathFor(directory, candidate);
            byte[] bytes = File.ReadAllBytes(path);
            if (ObjectStore.TryLoadSnapshot(bytes, out store, out sequence, out var failure) && sequence == candidate) return true;
            skipped.Add($"{path}: {(failure.IsError ? failure.Describe() : $"holds sequence {sequence}, its name says {candidate}")}");
        }
        store = null;
        sequence = 0;
        return false;
    }

    /// <summary>Deletes all but the newest <paramref name="keep"/> snapshots.</summary>
    public static int Prune(string directory, int keep)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(keep);
        var sequences = List(directory);
        for (int i = keep; i < sequences.Length; i++) File.Delete(PathFor(directory, sequences[i]));
        if (sequences.Length > keep) Posix.SyncDirectory(directory);
        return Math.Max(0, sequences.Length - keep);
    }

    /// <summary>
    /// Restore = last snapshot + log replay: loads the newest valid snapshot (or starts empty), then applies
    /// every record of <paramref name="recordType"/> with a sequence above the snapshot's (a snapshot at S holds
    /// every command with sequence at most S). A command that does
    /// not apply as it did the first time means the snapshot and the log disagree: that throws.
    /// </summary>
    public static ObjectStore Restore(string directory, AppendLog log, byte recordType, out ulong snapshotSequence, out int replayed)
    {
        ArgumentNullException.ThrowIfNull(log);
        bool loaded = TryLoadLatest(directory, out var store, out snapshotSequence, out var skipped);
        if (!loaded && skipped.Count > 0)
        {
            throw new InvalidDataException("no snapshot verifies, and the log alone may not go back far enough (fetch one from a peer): " + string.Join("; ", skipped));
        }
        store ??= new ObjectStore();
        replayed = 0;
        var reader = loaded ? log.ReadFromSequence(snapshotSequence + 1) : log.ReadAll();
        foreach (var record in reader)
        {
            if (record.Type != recordType) continue;
            var result = store.Apply(record.Payload);
            if (result != StoreResult.Ok)
            {
                throw new InvalidDataException($"replaying the store command at lsn {record.Lsn} (sequence {record.Sequence}) gave {result}: the snapshot and the log disagree");
            }
            replayed++;
        }
        return store;
    }
}
