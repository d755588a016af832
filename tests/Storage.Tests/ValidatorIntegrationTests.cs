using Chainspace.Contracts;
using Chainspace.Core;
using Chainspace.Core.Codec;
using Chainspace.Core.Validation;
using Chainspace.Storage.Objects;

namespace Chainspace.Storage.Tests;

/// <summary>The store is the α0 of the Fig. 2 validator on a replica: usable = active and not locked.</summary>
public sealed class ValidatorIntegrationTests
{
    [Fact]
    public void Validator_OverObjectStore_AcceptsActiveRejectsLockedAndConsumed()
    {
        var tokens = Dummy.GenesisTokens("storage", 2).ToArray();
        byte[] bytes = Dummy.Spend(tokens).Encode();
        var parsed = new ParsedTransaction(CodecLimits.Default);
        Assert.True(parsed.TryParse(bytes, out _));
        parsed.ComputeIds(bytes);
        var validator = new TransactionValidator(new ContractRegistry(Dummy.Instance), CodecLimits.Default);
        var ids = tokens.Select(t => t.Id).ToArray();
        var store = new ObjectStore();

        ValidationResult Check() => validator.Validate(parsed.View(bytes), store, ValidationScope.Everything);

        Assert.Equal(ValidationError.InputNotActive, Check().Error);   // unknown objects
        store.Create(ids);
        Assert.True(Check().IsValid);

        var other = Hashing.Sha256("another transaction"u8);
        store.TryLock(ids.AsSpan(1, 1), other);
        Assert.Equal(ValidationError.InputNotActive, Check().Error);   // locked by another transaction
        store.Unlock(other);
        Assert.True(Check().IsValid);

        store.TryLock(ids, other);
        store.Consume(ids.AsSpan(0, 1), other);
        store.Unlock(other);
        Assert.Equal(ValidationError.InputNotActive, Check().Error);   // consumed
    }
}
