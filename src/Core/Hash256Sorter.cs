using Chainspace.Core.Memory;

namespace Chainspace.Core;

/// <summary>
/// Sorts digests into ascending byte order (the canonical order of every snapshot), with an int carried along
/// with each key. Hand-written because it sits on the checkpoint path: ids are uniform hashes, so one counting
/// pass on the top 16 bits spreads n keys over 65,536 buckets of a few keys each, and each bucket is then
/// sorted on its own — O(n) expected, where the comparison sort it replaces (O(n log n) 32-byte compares)
/// was most of a checkpoint's digest time at 10^5–10^6 ids. Ids ground to share a prefix only make their
/// bucket bigger; a big bucket is comparison-sorted, so the worst case stays O(n log n).
/// Keeps its scratch (allocated by the first input large enough to need it, grown to the largest, never shrunk), so
/// an instance costs nothing until it sorts a checkpoint's worth: one instance per owner, single-threaded.
/// </summary>
public sealed class Hash256Sorter
{
    private const int PrefixBits = 16;
    private const int BucketCount = 1 << PrefixBits;
    /// <summary>Below this many keys the counting pass costs more than it saves.</summary>
    private const int RadixThreshold = 2048;
    private const int InsertionSortMax = 16;

    private int[] _bucketEnds = [];
    private Hash256[] _keys = [];
    private int[] _items = [];

    /// <summary>Sorts <paramref name="keys"/> ascending and applies the same permutation to <paramref name="items"/>.</summary>
    public void Sort(Span<Hash256> keys, Span<int> items)
    {
        if (keys.Length != items.Length) throw new ArgumentException($"{keys.Length} keys but {items.Length} items", nameof(items));
        int n = keys.Length;
        if (n < RadixThreshold)
        {
            keys.Sort(items);
            return;
        }
        if (_keys.Length < n)
        {
            // Written before read; the checkpoint's largest scratch, so huge-page-advised (see LargeBuffers).
            _keys = LargeBuffers.AllocateScratch<Hash256>(n);
            _items = LargeBuffers.AllocateScratch<int>(n);
        }
        if (_bucketEnds.Length == 0) _bucketEnds = new int[BucketCount];
        var ends = _bucketEnds.AsSpan();
        ends.Clear();
        foreach (ref readonly var key in keys) ends[Bucket(key)]++;
        int sum = 0;
        for (int b = 0; b < ends.Length; b++)
        {
            int count = ends[b];
            ends[b] = sum;    // start of bucket b, advanced to its end by the scatter below
            sum += count;
        }
        var sortedKeys = _keys.AsSpan(0, n);
        var sortedItems = _items.AsSpan(0, n);
        for (int i = 0; i < n; i++)
        {
            int at = ends[Bucket(keys[i])]++;
            sortedKeys[at] = keys[i];
            sortedItems[at] = items[i];
        }
        int start = 0;
        for (int b = 0; b < ends.Length; b++)
        {
            int end = ends[b];
            int length = end - start;
            if (length > 1) SortBucket(sortedKeys.Slice(start, length), sortedItems.Slice(start, length));
            start = end;
        }
        sortedKeys.CopyTo(keys);
        sortedItems.CopyTo(items);
    }

    private static int Bucket(in Hash256 key) => (int)(key.Prefix64 >> (64 - PrefixBits));

    private static void SortBucket(Span<Hash256> keys, Span<int> items)
    {
        if (keys.Length > InsertionSortMax)
        {
            keys.Sort(items);
            return;
        }
        for (int i = 1; i < keys.Length; i++)
        {
            var key = keys[i];
            int item = items[i];
            int j = i - 1;
            while (j >= 0 && keys[j].CompareTo(key) > 0)
            {
                keys[j + 1] = keys[j];
                items[j + 1] = items[j];
                j--;
            }
            keys[j + 1] = key;
            items[j + 1] = item;
        }
    }
}
