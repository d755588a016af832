namespace Chainspace.Core.Validation;

/// <summary>
/// The contracts a node knows, looked up by the name bytes in a trace without allocating.
/// Registries are small (a handful of contracts), so a linear scan beats hashing.
/// </summary>
public sealed class ContractRegistry
{
    private readonly Contract[] _contracts;

    public ContractRegistry(params Contract[] contracts)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var c in contracts)
        {
            if (!names.Add(c.Name)) throw new ArgumentException($"contract '{c.Name}' registered twice", nameof(contracts));
        }
        _contracts = contracts.ToArray();
    }

    public IReadOnlyList<Contract> Contracts => _contracts;

    public bool TryGet(ReadOnlySpan<byte> name, out Contract contract)
    {
        foreach (var c in _contracts)
        {
            if (name.SequenceEqual(c.NameBytes))
            {
                contract = c;
                return true;
            }
        }
        contract = null!;
        return false;
    }
}
