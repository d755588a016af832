using Chainspace.Core.Crypto;
using Chainspace.Core.Model;
using Chainspace.Core.Validation;

namespace Chainspace.Contracts.Tests;

public sealed class CsCoinTests : IDisposable
{
    private readonly Ed25519KeyPair _alice = Ed25519KeyPair.Generate();
    private readonly Ed25519KeyPair _bob = Ed25519KeyPair.Generate();
    private readonly Ed25519KeyPair _carol = Ed25519KeyPair.Generate();
    private readonly ChainObject _aliceAccount, _bobAccount, _carolAccount;

    public CsCoinTests()
    {
        _aliceAccount = Genesis.Object("coins", 0, CsCoin.Account(_alice.PublicKey, 100));
        _bobAccount = Genesis.Object("coins", 1, CsCoin.Account(_bob.PublicKey, 50));
        _carolAccount = Genesis.Object("coins", 2, CsCoin.Account(_carol.PublicKey, 0));
    }

    public void Dispose()
    {
        _alice.Dispose();
        _bob.Dispose();
        _carol.Dispose();
    }

    private ValidationResult Check(Trace trace) =>
        ContractHarness.Validate(new Transaction(trace), _aliceAccount, _bobAccount, _carolAccount);

    [Fact]
    public void CsCoin_ValidMultiInputTransfer_IsAccepted()
    {
        // Alice pays 30 and Bob pays 10 to Carol; the payee signs nothing.
        var trace = CsCoin.Transfer([_aliceAccount, _bobAccount, _carolAccount], [_alice, _bob, null], [70, 40, 40]);
        Assert.Equal(ValidationResult.Valid, Check(trace));
    }

    [Fact]
    public void CsCoin_MissingPayerSignature_IsRejected()
    {
        var trace = CsCoin.Transfer([_aliceAccount, _bobAccount], [null, _bob], [70, 80]);
        Assert.Equal(ValidationError.CheckerRejected, Check(trace).Error);
    }

    [Fact]
    public void CsCoin_WrongSignature_IsRejected()
    {
        // Bob signs for Alice's account.
        var trace = CsCoin.Transfer([_aliceAccount, _bobAccount], [_bob, null], [70, 80]);
        Assert.Equal(ValidationError.CheckerRejected, Check(trace).Error);
    }

    [Fact]
    public void CsCoin_SignatureOverOtherOutputs_IsRejected()
    {
        // A valid signature for one transfer, replayed onto different outputs.
        var signed = CsCoin.Transfer([_aliceAccount, _bobAccount], [_alice, null], [90, 60]);
        var tampered = new Trace(signed.Contract, signed.Procedure, signed.Inputs, outputs:
            [CsCoin.Account(_alice.PublicKey, 0), CsCoin.Account(_bob.PublicKey, 150)],
            parameters: signed.Parameters,
            returns: CsCoin.Flows(signed.Inputs, [CsCoin.Account(_alice.PublicKey, 0), CsCoin.Account(_bob.PublicKey, 150)]));
        Assert.Equal(ValidationError.CheckerRejected, Check(tampered).Error);
    }

    [Fact]
    public void CsCoin_Overdraft_IsRejected()
    {
        var trace = CsCoin.Transfer([_aliceAccount, _bobAccount], [_alice, null], [-10, 160]);
        Assert.Equal(ValidationError.CheckerRejected, Check(trace).Error);
    }

    [Fact]
    public void CsCoin_ValueFromNothing_IsRejected()
    {
        var trace = CsCoin.Transfer([_aliceAccount, _bobAccount], [_alice, _bob], [100, 1000]);
        Assert.Equal(ValidationError.CheckerRejected, Check(trace).Error);
    }

    [Fact]
    public void CsCoin_ValueDestroyed_IsRejected()
    {
        var trace = CsCoin.Transfer([_aliceAccount], [_alice], [10]);
        Assert.Equal(ValidationError.CheckerRejected, Check(trace).Error);
    }

    [Fact]
    public void CsCoin_ReturnsThatLieAboutFlows_AreRejected()
    {
        var honest = CsCoin.Transfer([_aliceAccount, _bobAccount], [_alice, null], [70, 80]);
        var lying = new Trace(honest.Contract, honest.Procedure, honest.Inputs, outputs: honest.Outputs,
            parameters: honest.Parameters, returns: CsCoin.Flows(honest.Inputs, [CsCoin.Account(_alice.PublicKey, 0), CsCoin.Account(_bob.PublicKey, 150)]));
        Assert.Equal(ValidationError.CheckerRejected, Check(lying).Error);
    }

    [Fact]
    public void CsCoin_ChangedOwnerKey_IsRejected()
    {
        // Output 0 moves Alice's funds to Bob's key: a theft dressed as a transfer.
        var outputs = new[] { CsCoin.Account(_bob.PublicKey, 100), CsCoin.Account(_bob.PublicKey, 50) };
        var trace = CsCoin.Build(CsCoin.TransferProcedure, [_aliceAccount, _bobAccount], [_alice, _bob], outputs);
        Assert.Equal(ValidationError.CheckerRejected, Check(trace).Error);
    }

    [Fact]
    public void CsCoin_CreateAccount_FundedBySponsor_IsAccepted()
    {
        using var dave = Ed25519KeyPair.Generate();
        var trace = CsCoin.CreateAccount(_aliceAccount, _alice, dave.PublicKey, 25);
        Assert.Equal(ValidationResult.Valid, Check(trace));
        var created = new Transaction(trace).Ids.OutputsByTrace[0];
        var (owner, balance) = CsCoin.ReadAccount(created[1].Body);
        Assert.Equal(dave.PublicKey.Bytes.ToArray(), owner);
        Assert.Equal(25L, balance);
        Assert.Equal(75L, CsCoin.ReadAccount(created[0].Body).Balance);
    }

    [Fact]
    public void CsCoin_CreateAccount_WithoutSponsorSignature_IsRejected()
    {
        using var dave = Ed25519KeyPair.Generate();
        var signed = CsCoin.CreateAccount(_aliceAccount, _alice, dave.PublicKey, 0);
        var unsigned = CsCoin.Build(CsCoin.CreateAccountProcedure, [_aliceAccount], [null], signed.Outputs);
        Assert.Equal(ValidationError.CheckerRejected, Check(unsigned).Error);
    }

    [Fact]
    public void CsCoin_NewAccountsCanBeSpentInALaterTransaction()
    {
        var first = new Transaction(CsCoin.Transfer([_aliceAccount, _bobAccount], [_alice, null], [60, 90]));
        Assert.True(ContractHarness.Validate(first, _aliceAccount, _bobAccount).IsValid);
        var outputs = first.Ids.OutputsByTrace[0];
        var second = new Transaction(CsCoin.Transfer([outputs[1], outputs[0]], [_bob, null], [0, 150]));
        Assert.True(ContractHarness.Validate(second, outputs).IsValid);
        // The spent genesis accounts cannot be spent again (they are no longer active).
        Assert.Equal(ValidationError.InputNotActive, ContractHarness.Validate(first, outputs).Error);
    }
}
