using Chainspace.Core;
using Chainspace.Core.Codec;
using Chainspace.Core.Model;
using Chainspace.Core.Validation;

namespace Chainspace.Contracts.Tests;

/// <summary>
/// The hot path allocates nothing per transaction. Allocated bytes on this thread are an exact count,
/// not a timing, so this belongs in the tests; BenchmarkDotNet reports the same figure with ns/op.
/// </summary>
public class AllocationTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void Dummy_DecodeIdsAndCheck_AllocateNothing(int inputs)
    {
        var tokens = Dummy.GenesisTokens("alloc", inputs).ToArray();
        byte[] bytes = Dummy.Spend(tokens).Encode();
        var parsed = new ParsedTransaction(CodecLimits.Default);
        var validator = new TransactionValidator(ContractHarness.Registry, CodecLimits.Default);
        var states = new ActiveSet(tokens);
        var shardScope = ValidationScope.ForShard(0, new ShardMap(2));
        Span<uint> shards = stackalloc uint[2];

        bool RunOnce(Span<uint> shardBuffer)
        {
            if (!parsed.TryParse(bytes, out _)) return false;
            parsed.ComputeIds(bytes);
            parsed.ConcernedShards(new ShardMap(2), shardBuffer);
            var view = parsed.View(bytes);
            return validator.Validate(view, states, ValidationScope.Everything).IsValid
                && validator.Validate(view, states, shardScope).Error != ValidationError.UnknownContract;
        }

        for (int i = 0; i < 10; i++) Assert.True(RunOnce(shards));   // warm up (JIT, tiering)
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++) RunOnce(shards);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
    }
}
