using Chainspace.Core.Codec;

namespace Chainspace.Core.Model;

/// <summary>
/// Initial objects (the paper's base case: "no initial objects start with the same identifier").
/// A genesis object is named like any output, with a creator trace id derived from the cluster's
/// genesis label: H('G' ‖ v ‖ alg ‖ label). Distinct (label, index) pairs give distinct ids.
/// </summary>
public static class Genesis
{
    public static Hash256 TraceId(string label)
    {
        ArgumentException.ThrowIfNullOrEmpty(label);
        return Hashing.Domain(HashDomain.Genesis, System.Text.Encoding.UTF8.GetBytes(label));
    }

    public static ChainObject Object(string label, ulong index, ObjectBody body) => new(TraceId(label), index, body);
}
