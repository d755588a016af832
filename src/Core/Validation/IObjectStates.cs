namespace Chainspace.Core.Validation;

/// <summary>
/// The active-object context α0 that Fig. 2 validates against, for the objects the validator is
/// told to check (see <see cref="ValidationScope"/>). For a replica preparing a transaction,
/// "usable" means active and not locked; for an auditor, simply active.
/// </summary>
public interface IObjectStates
{
    bool IsUsable(in Hash256 objectId);
}
