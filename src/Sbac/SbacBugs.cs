namespace Chainspace.Sbac;

/// <summary>
/// Planted bugs for the simulator's self-test (STYLE.md §6, "Prove the tests can fail"): each switch
/// breaks one S-BAC safety rule, and the multi-shard simulator must catch it within a bounded number of
/// seeds. Off by default; when off, each costs one flag test on a path that already branches.
/// </summary>
[Flags]
public enum SbacBugs
{
    None = 0,
    /// <summary>Prepare treats objects locked by another transaction as free (votes commit on them).</summary>
    SkipLockCheck = 1,
    /// <summary>Accept is executed without checking its proofs (any claimed decision is applied).</summary>
    AcceptWithoutProof = 2,
}

/// <summary>The object states Prepare would see if it ignored locks (<see cref="SbacBugs.SkipLockCheck"/> only).</summary>
internal sealed class IgnoreLocks(Storage.Objects.ObjectStore store) : Core.Validation.IObjectStates
{
    public bool IsUsable(in Core.Hash256 objectId) => store.GetState(objectId) is Storage.Objects.ObjectState.Active or Storage.Objects.ObjectState.Locked;
}
