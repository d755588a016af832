using Chainspace.Core.Model;
using Chainspace.Core.Validation;

namespace Chainspace.Contracts.Tests;

public class DummyTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(6)]
    public void Dummy_SpendOfNInputs_IsAccepted(int n)
    {
        var tokens = Dummy.GenesisTokens("bench", n).ToArray();
        var tx = Dummy.Spend(tokens);
        Assert.Equal(ValidationResult.Valid, ContractHarness.Validate(tx, tokens));
        Assert.Equal(n, tx.Ids.OutputsByTrace[0].Length);
    }

    [Fact]
    public void Dummy_OutputCountDifferentFromInputs_IsRejected()
    {
        var tokens = Dummy.GenesisTokens("bench", 2).ToArray();
        var tx = new Transaction(new Trace(Dummy.ContractName, Dummy.SpendProcedure, tokens, outputs: [Dummy.Token()]));
        Assert.Equal(ValidationError.CheckerRejected, ContractHarness.Validate(tx, tokens).Error);
    }

    [Fact]
    public void Dummy_UnknownProcedure_IsRejected()
    {
        var tokens = Dummy.GenesisTokens("bench", 1).ToArray();
        var tx = new Transaction(new Trace(Dummy.ContractName, "mint", tokens, outputs: [Dummy.Token()]));
        Assert.Equal(ValidationError.CheckerRejected, ContractHarness.Validate(tx, tokens).Error);
    }

    [Fact]
    public void Dummy_SpentTokenCannotBeSpentAgain()
    {
        var tokens = Dummy.GenesisTokens("bench", 1).ToArray();
        var outputs = Dummy.Spend(tokens).Ids.OutputsByTrace[0];
        Assert.Equal(ValidationError.InputNotActive, ContractHarness.Validate(Dummy.Spend(tokens), outputs).Error);
    }
}
