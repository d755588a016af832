namespace Chainspace.Core.Tests;

public class Hash256SorterTests
{
    private static Hash256 RandomHash(Random random, byte[]? prefix = null)
    {
        var bytes = new byte[Hash256.Size];
        random.NextBytes(bytes);
        prefix?.CopyTo(bytes, 0);
        return new Hash256(bytes);
    }

    /// <summary>Sorts with the sorter and checks order and that every key kept its own item.</summary>
    private static void AssertSortsLikeComparisonSort(Hash256Sorter sorter, Hash256[] keys)
    {
        var items = Enumerable.Range(0, keys.Length).ToArray();
        var original = (Hash256[])keys.Clone();
        var expected = (Hash256[])keys.Clone();
        Array.Sort(expected);
        sorter.Sort(keys, items);
        Assert.Equal(expected, keys);
        for (int i = 0; i < keys.Length; i++) Assert.Equal(original[items[i]], keys[i]);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(100)]            // below the radix threshold: comparison sort
    [InlineData(2048)]
    [InlineData(100_000)]        // a checkpoint's worth: tiny buckets, insertion sort
    public void UniformIds_SortInByteOrder_ItemsFollowTheirKeys(int count)
    {
        var random = new Random(count);
        var sorter = new Hash256Sorter();
        AssertSortsLikeComparisonSort(sorter, Enumerable.Range(0, count).Select(_ => RandomHash(random)).ToArray());
    }

    [Fact]
    public void IdsGroundToShareAPrefix_LandInOneBucket_StillSorted()
    {
        var random = new Random(7);
        var sorter = new Hash256Sorter();
        // A third of the ids share their first two bytes (one big bucket), some share three (equal in the radix
        // digit and beyond), the rest are uniform; plus duplicates, which the sorter must keep.
        var keys = Enumerable.Range(0, 9000).Select(i => RandomHash(random, (i % 3) switch
        {
            0 => [0xAB, 0xCD],
            1 => i % 2 == 0 ? [0x00, 0x01, 0x02] : null,
            _ => null,
        })).ToList();
        keys.AddRange(keys.Take(50));
        AssertSortsLikeComparisonSort(sorter, keys.ToArray());
    }

    [Fact]
    public void Reused_ForSmallerAndLargerInputs_SortsEachCorrectly()
    {
        var random = new Random(3);
        var sorter = new Hash256Sorter();
        foreach (int count in new[] { 50_000, 3_000, 70_000, 2_500 })
            AssertSortsLikeComparisonSort(sorter, Enumerable.Range(0, count).Select(_ => RandomHash(random)).ToArray());
    }

    [Fact]
    public void KeysAndItemsOfDifferentLengths_Throw()
    {
        Assert.Throws<ArgumentException>(() => new Hash256Sorter().Sort(new Hash256[3], new int[2]));
    }
}
