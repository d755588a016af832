using System.Diagnostics;

namespace Chainspace.Core.Validation;

/// <summary>
/// The validity rules of Fig. 2 over a parsed transaction.
///
/// Sequence rule: a trace list is valid if each trace is valid in order, the active set threading
/// through (α0 → α' → …). Check rule: a trace's dependencies are validated first, depth-first, giving
/// α'; then (1) its inputs and references must be in α', (2) outputs imply inputs, (3) every object
/// passed to the checker is of a type of the trace's contract, and the checker must accept; the
/// trace leaves (α' \ w) ∪ x.
///
/// α is α0 (from <see cref="IObjectStates"/>, for the objects the scope manages; the others are
/// assumed active, since their own shard checks them) overlaid with what this transaction has
/// consumed and created so far. The overlay lives in arrays sized at construction: validation
/// allocates nothing. One validator per thread.
/// </summary>
public sealed class TransactionValidator
{
    private readonly ContractRegistry _registry;
    private readonly Hash256[] _consumed;
    private readonly Hash256[] _created;
    private readonly int[] _checkedHere;
    private int _consumedCount, _createdCount, _checkedHereCount;

    public TransactionValidator(ContractRegistry registry, Codec.CodecLimits limits)
    {
        _registry = registry ?? throw new ArgumentNullException(nameof(registry));
        _consumed = new Hash256[limits.ObjectsPerTransactionMax];
        _created = new Hash256[limits.ObjectsPerTransactionMax];
        _checkedHere = new int[limits.ObjectsPerTransactionMax];
    }

    public ContractRegistry Registry => _registry;

    /// <summary>Validates a parsed transaction whose ids have been computed.</summary>
    public ValidationResult Validate(in TransactionView tx, IObjectStates states, in ValidationScope scope)
    {
        ArgumentNullException.ThrowIfNull(states);
        _consumedCount = _createdCount = 0;
        CollectContractsCheckedHere(tx, scope);
        var roots = tx.Traces;
        for (int i = 0; i < roots.Count; i++)
        {
            var result = ValidateTrace(tx, roots[i], states, scope);
            if (!result.IsValid) return result;
        }
        return ValidationResult.Valid;
    }

    private ValidationResult ValidateTrace(in TransactionView tx, in TraceView trace, IObjectStates states, in ValidationScope scope)
    {
        // Check rule, premise 1: the dependencies, in sequence, before the trace itself.
        var deps = trace.Dependencies;
        for (int i = 0; i < deps.Count; i++)
        {
            var result = ValidateTrace(tx, deps[i], states, scope);
            if (!result.IsValid) return result;
        }

        var inputs = trace.Inputs;
        var references = trace.References;
        var outputs = trace.Outputs;

        // Side condition 1: inputs and references are active in α'.
        for (int i = 0; i < inputs.Count; i++)
        {
            var o = inputs[i];
            for (int j = 0; j < i; j++)
            {
                if (inputs[j].Id == o.Id) return new(ValidationError.DuplicateInput, trace.Index, o.Index);
            }
            if (!IsActive(o.Id, states, scope)) return new(ValidationError.InputNotActive, trace.Index, o.Index);
        }
        for (int i = 0; i < references.Count; i++)
        {
            var o = references[i];
            if (!IsActive(o.Id, states, scope)) return new(ValidationError.ReferenceNotActive, trace.Index, o.Index);
        }

        // Side condition 2: a trace that creates objects consumes some (keeps ids fresh, Theorem 1).
        if (outputs.Count > 0 && inputs.Count == 0) return new(ValidationError.OutputsWithoutInputs, trace.Index, -1);

        // Side condition 3: every object handed to the checker is of a type of this contract.
        bool known = _registry.TryGet(trace.Contract, out var contract);
        var typeError = CheckTypes(trace, inputs, known ? contract : null);
        if (!typeError.IsValid) return typeError;
        typeError = CheckTypes(trace, references, known ? contract : null);
        if (!typeError.IsValid) return typeError;
        typeError = CheckTypes(trace, outputs, known ? contract : null);
        if (!typeError.IsValid) return typeError;

        // The checker, if this validator is responsible for the contract.
        if (MustRunChecker(tx, trace.Contract, scope))
        {
            if (!known) return new(ValidationError.UnknownContract, trace.Index, -1);
            bool accepted;
            try
            {
                accepted = contract.Check(trace, deps);
            }
            catch (Exception)
            {
                // A checker is contract code: a bug or hostile input there rejects the trace, it never
                // takes the replica down. Replicas still agree: the same input throws on every one.
                return new(ValidationError.CheckerFailed, trace.Index, -1);
            }
            if (!accepted) return new(ValidationError.CheckerRejected, trace.Index, -1);
        }

        // α'' = (α' \ w) ∪ x
        for (int i = 0; i < inputs.Count; i++) _consumed[_consumedCount++] = inputs[i].Id;
        for (int i = 0; i < outputs.Count; i++) _created[_createdCount++] = outputs[i].Id;
        Debug.Assert(_consumedCount <= _consumed.Length && _createdCount <= _created.Length);
        return ValidationResult.Valid;
    }

    private static ValidationResult CheckTypes(in TraceView trace, in ObjectList objects, Contract? contract)
    {
        var traceContract = trace.Contract;
        for (int i = 0; i < objects.Count; i++)
        {
            var o = objects[i];
            if (!o.Contract.SequenceEqual(traceContract) || (contract is not null && !contract.DefinesType(o.Type)))
                return new(ValidationError.ObjectTypeMismatch, trace.Index, o.Index);
        }
        return ValidationResult.Valid;
    }

    private bool IsActive(in Hash256 id, IObjectStates states, in ValidationScope scope)
    {
        for (int i = 0; i < _consumedCount; i++)
        {
            if (_consumed[i] == id) return false;
        }
        for (int i = 0; i < _createdCount; i++)
        {
            if (_created[i] == id) return true;
        }
        return !scope.Manages(id) || states.IsUsable(id);
    }

    /// <summary>
    /// §IV-B: a shard runs the checker of contract c only if it manages a free object (ζ \ ξ) of c in T.
    /// Theorem 2 guarantees some concerned shard does, so every trace is checked by someone.
    /// Records one object per such contract (by index), so the names stay spans into the transaction.
    /// </summary>
    private void CollectContractsCheckedHere(in TransactionView tx, in ValidationScope scope)
    {
        _checkedHereCount = 0;
        if (scope.IsEverything) return;
        for (int i = 0; i < tx.ObjectCount; i++)
        {
            var o = tx.ObjectAt(i);
            if (!o.IsFree || !scope.Manages(o.Id)) continue;
            bool seen = false;
            for (int k = 0; k < _checkedHereCount && !seen; k++) seen = tx.ObjectAt(_checkedHere[k]).Contract.SequenceEqual(o.Contract);
            if (!seen) _checkedHere[_checkedHereCount++] = i;
        }
    }

    private bool MustRunChecker(in TransactionView tx, ReadOnlySpan<byte> contractName, in ValidationScope scope)
    {
        if (scope.IsEverything) return true;
        for (int k = 0; k < _checkedHereCount; k++)
        {
            if (tx.ObjectAt(_checkedHere[k]).Contract.SequenceEqual(contractName)) return true;
        }
        return false;
    }
}
