using System.Text;
using Chainspace.Core.Codec;

namespace Chainspace.Core.Validation;

/// <summary>
/// A smart contract as the nodes see it: a name, the object types it defines, and a pure checker
/// (paper §III). The checker must be deterministic and side-effect free: it sees only the trace
/// (inputs, references, outputs, parameters, returns) and its already-validated dependencies,
/// whose returns it may read.
/// </summary>
public abstract class Contract
{
    private readonly byte[] _name;
    private readonly byte[][] _types;

    protected Contract(string name, params string[] types)
    {
        if (!Names.IsValid(name)) throw new ArgumentException($"invalid contract name '{name}'", nameof(name));
        if (types.Length == 0) throw new ArgumentException("a contract defines at least one type", nameof(types));
        foreach (var t in types)
        {
            if (!Names.IsValid(t)) throw new ArgumentException($"invalid type name '{t}'", nameof(types));
        }
        Name = name;
        Types = types;
        _name = Encoding.ASCII.GetBytes(name);
        _types = types.Select(Encoding.ASCII.GetBytes).ToArray();
    }

    public string Name { get; }
    public IReadOnlyList<string> Types { get; }
    public ReadOnlySpan<byte> NameBytes => _name;

    public bool DefinesType(ReadOnlySpan<byte> type)
    {
        foreach (var t in _types)
        {
            if (type.SequenceEqual(t)) return true;
        }
        return false;
    }

    /// <summary>The checker c.v of Fig. 2. Returns false to reject the trace.</summary>
    public abstract bool Check(in TraceView trace, in TraceList dependencies);

    public override string ToString() => Name;
}
