using Chainspace.Core.Codec;
using Chainspace.Core.Model;
using Chainspace.Core.Validation;

namespace Chainspace.Core.Tests;

public delegate bool CheckFunction(in TraceView trace, in TraceList dependencies);

/// <summary>A contract whose checker is supplied by the test.</summary>
public sealed class TestContract(string name, CheckFunction check, params string[] types) : Contract(name, types)
{
    public int Calls { get; private set; }

    public override bool Check(in TraceView trace, in TraceList dependencies)
    {
        Calls++;
        return check(trace, dependencies);
    }
}

public sealed class ActiveSet : IObjectStates
{
    private readonly HashSet<Hash256> _active = [];
    public ActiveSet(params ChainObject[] objects) { foreach (var o in objects) _active.Add(o.Id); }
    public bool IsUsable(in Hash256 objectId) => _active.Contains(objectId);
}

/// <summary>One test per clause of Fig. 2, each with a transaction that fails exactly that clause.</summary>
public class ValidationTests
{
    private static readonly TestContract Accepting = new("c", (in TraceView _, in TraceList _) => true, "t", "u");
    private static readonly ObjectBody T = new("c", "t", new byte[] { 1 });
    private static readonly ChainObject A = Genesis.Object("g", 0, T);
    private static readonly ChainObject B = Genesis.Object("g", 1, T);
    private static readonly ChainObject C = Genesis.Object("g", 2, T);

    internal static ValidationResult Validate(Transaction tx, IObjectStates states, ValidationScope? scope = null, params Contract[] contracts)
    {
        var registry = new ContractRegistry(contracts.Length == 0 ? [Accepting] : contracts);
        var parsed = new ParsedTransaction(CodecLimits.Default);
        byte[] bytes = tx.Encode();
        Assert.True(parsed.TryParse(bytes, out var failure), failure.Describe());
        parsed.ComputeIds(bytes);
        var validator = new TransactionValidator(registry, CodecLimits.Default);
        return validator.Validate(parsed.View(bytes), states, scope ?? ValidationScope.Everything);
    }

    private static Trace Spend(params ChainObject[] inputs) => new("c", "p", inputs, outputs: [T]);

    [Fact]
    public void Fig2_ValidTransaction_IsAccepted()
    {
        Assert.Equal(ValidationResult.Valid, Validate(new Transaction(Spend(A), Spend(B)), new ActiveSet(A, B)));
    }

    [Fact]
    public void Fig2_SequenceRule_SecondTraceCannotReuseFirstTracesInput()
    {
        var result = Validate(new Transaction(Spend(A), Spend(A)), new ActiveSet(A));
        Assert.Equal(ValidationError.InputNotActive, result.Error);
        Assert.Equal(1, result.TraceIndex);
    }

    [Fact]
    public void Fig2_SequenceRule_LaterTraceSeesEarlierOutputs()
    {
        var first = Spend(A);
        var firstOutput = new Transaction(first).Ids.OutputsByTrace[0][0];
        Assert.True(Validate(new Transaction(first, Spend(firstOutput)), new ActiveSet(A)).IsValid);
        // ...but not the other way round: a trace cannot use an output created after it.
        var result = Validate(new Transaction(Spend(firstOutput), first), new ActiveSet(A));
        Assert.Equal(ValidationError.InputNotActive, result.Error);
        Assert.Equal(0, result.TraceIndex);
    }

    [Fact]
    public void Fig2_CheckRule_InvalidDependencyInvalidatesParent()
    {
        var parent = new Trace("c", "p", [A], outputs: [T], dependencies: [Spend(C)]);
        var result = Validate(new Transaction(parent), new ActiveSet(A));   // C is not active
        Assert.Equal(ValidationError.InputNotActive, result.Error);
        Assert.Equal(1, result.TraceIndex);   // the dependency, in pre-order after its parent
    }

    [Fact]
    public void Fig2_CheckRule_DependenciesRunFirstAndUpdateTheContext()
    {
        // The dependency consumes A, so the parent, which also spends A, fails in α'.
        var parent = new Trace("c", "p", [A], outputs: [T], dependencies: [Spend(A)]);
        var result = Validate(new Transaction(parent), new ActiveSet(A));
        Assert.Equal(ValidationError.InputNotActive, result.Error);
        Assert.Equal(0, result.TraceIndex);
    }

    [Fact]
    public void Fig2_CheckRule_DependencyReturnsAreVisibleToParentChecker()
    {
        var checker = new TestContract("c", (in TraceView t, in TraceList deps) =>
            !t.ProcedureIs("parent"u8) || (deps.Count == 1 && deps[0].Returns.SequenceEqual("paid"u8)), "t");
        Trace Parent(byte[] depReturns) =>
            new("c", "parent", [A], outputs: [T], dependencies: [new Trace("c", "child", [B], outputs: [T], returns: depReturns)]);
        Assert.True(Validate(new Transaction(Parent("paid"u8.ToArray())), new ActiveSet(A, B), null, checker).IsValid);
        var result = Validate(new Transaction(Parent("nope"u8.ToArray())), new ActiveSet(A, B), null, checker);
        Assert.Equal(ValidationError.CheckerRejected, result.Error);
        Assert.Equal(0, result.TraceIndex);
    }

    [Fact]
    public void Fig2_SideCondition1_InactiveInput()
    {
        var result = Validate(new Transaction(Spend(A, B)), new ActiveSet(A));
        Assert.Equal(ValidationError.InputNotActive, result.Error);
    }

    [Fact]
    public void Fig2_SideCondition1_InactiveReference()
    {
        var tx = new Transaction(new Trace("c", "p", [A], [B], [T]));
        Assert.Equal(ValidationError.ReferenceNotActive, Validate(tx, new ActiveSet(A)).Error);
        Assert.True(Validate(tx, new ActiveSet(A, B)).IsValid);
    }

    [Fact]
    public void Fig2_SideCondition1_ReferenceStaysActive()
    {
        // References are read, not consumed: two traces may both reference B.
        var tx = new Transaction(new Trace("c", "p", [A], [B], [T]), new Trace("c", "p", [C], [B], [T]));
        Assert.True(Validate(tx, new ActiveSet(A, B, C)).IsValid);
    }

    [Fact]
    public void Fig2_SideCondition1_DuplicateInputInOneTrace()
    {
        Assert.Equal(ValidationError.DuplicateInput, Validate(new Transaction(Spend(A, A)), new ActiveSet(A)).Error);
    }

    [Fact]
    public void Fig2_SideCondition2_OutputsWithoutInputs()
    {
        var tx = new Transaction(new Trace("c", "p", references: [B], outputs: [T]));
        var result = Validate(tx, new ActiveSet(B));
        Assert.Equal(ValidationError.OutputsWithoutInputs, result.Error);
        // A trace with neither inputs nor outputs is fine (a pure check, e.g. of a reference).
        Assert.True(Validate(new Transaction(new Trace("c", "p", references: [B])), new ActiveSet(B)).IsValid);
    }

    [Fact]
    public void Fig2_SideCondition3_ObjectOfAnotherContract()
    {
        var foreign = Genesis.Object("g", 9, new ObjectBody("other", "t", new byte[] { 1 }));
        var result = Validate(new Transaction(Spend(foreign)), new ActiveSet(foreign));
        Assert.Equal(ValidationError.ObjectTypeMismatch, result.Error);
    }

    [Fact]
    public void Fig2_SideCondition3_TypeTheContractDoesNotDefine()
    {
        var tx = new Transaction(new Trace("c", "p", [A], outputs: [new ObjectBody("c", "zzz", new byte[] { 1 })]));
        var result = Validate(tx, new ActiveSet(A));
        Assert.Equal(ValidationError.ObjectTypeMismatch, result.Error);
        Assert.Equal(0, result.TraceIndex);
    }

    [Fact]
    public void Fig2_Checker_RejectionFailsTheTrace()
    {
        var rejecting = new TestContract("c", (in TraceView _, in TraceList _) => false, "t");
        Assert.Equal(ValidationError.CheckerRejected, Validate(new Transaction(Spend(A)), new ActiveSet(A), null, rejecting).Error);
    }

    [Fact]
    public void Fig2_Checker_ExceptionIsARejectionNotACrash()
    {
        var throwing = new TestContract("c", (in TraceView t, in TraceList _) => t.Parameters[100] == 0, "t");
        Assert.Equal(ValidationError.CheckerFailed, Validate(new Transaction(Spend(A)), new ActiveSet(A), null, throwing).Error);
    }

    [Fact]
    public void Fig2_UnknownContract_IsRejectedWhereItMustBeChecked()
    {
        var unknown = Genesis.Object("g", 3, new ObjectBody("nobody", "t", new byte[] { 1 }));
        var tx = new Transaction(new Trace("nobody", "p", [unknown], outputs: [new ObjectBody("nobody", "t", new byte[] { 2 })]));
        Assert.Equal(ValidationError.UnknownContract, Validate(tx, new ActiveSet(unknown)).Error);
    }

    [Fact]
    public void Scope_ShardChecksOnlyItsObjectsAndItsContracts()
    {
        var map = new ShardMap(2);
        // Find one object per shard.
        var objects = Enumerable.Range(0, 64).Select(i => Genesis.Object("s", (ulong)i, T)).ToArray();
        var mine = objects.First(o => map.ShardOf(o.Id) == 0);
        var theirs = objects.First(o => map.ShardOf(o.Id) == 1);
        var tx = new Transaction(Spend(mine, theirs));
        var shard0 = ValidationScope.ForShard(0, map);

        // Shard 0 knows only `mine`: `theirs` is for shard 1 to check.
        Assert.True(Validate(tx, new ActiveSet(mine), shard0).IsValid);
        Assert.Equal(ValidationError.InputNotActive, Validate(tx, new ActiveSet(theirs), shard0).Error);

        // A shard managing no object of contract c does not run c's checker.
        var rejecting = new TestContract("c", (in TraceView _, in TraceList _) => false, "t");
        var onlyTheirs = new Transaction(Spend(theirs));
        Assert.True(Validate(onlyTheirs, new ActiveSet(), shard0, rejecting).IsValid);
        Assert.Equal(0, rejecting.Calls);
        Assert.Equal(ValidationError.CheckerRejected, Validate(onlyTheirs, new ActiveSet(theirs), ValidationScope.ForShard(1, map), rejecting).Error);
    }
}
