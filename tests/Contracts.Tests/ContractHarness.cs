using Chainspace.Core;
using Chainspace.Core.Codec;
using Chainspace.Core.Model;
using Chainspace.Core.Validation;

namespace Chainspace.Contracts.Tests;

internal sealed class ActiveSet(params ChainObject[] objects) : IObjectStates
{
    private readonly HashSet<Hash256> _active = objects.Select(o => o.Id).ToHashSet();
    public bool IsUsable(in Hash256 objectId) => _active.Contains(objectId);
}

internal static class ContractHarness
{
    public static readonly ContractRegistry Registry = new(Dummy.Instance, CsCoin.Instance);

    public static ValidationResult Validate(Transaction tx, params ChainObject[] active)
    {
        var parsed = new ParsedTransaction(CodecLimits.Default);
        byte[] bytes = tx.Encode();
        Assert.True(parsed.TryParse(bytes, out var failure), failure.Describe());
        parsed.ComputeIds(bytes);
        return new TransactionValidator(Registry, CodecLimits.Default).Validate(parsed.View(bytes), new ActiveSet(active), ValidationScope.Everything);
    }
}
