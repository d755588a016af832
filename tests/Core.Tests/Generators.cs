using Chainspace.Core;
using Chainspace.Core.Model;
using CsCheck;

namespace Chainspace.Core.Tests;

/// <summary>CsCheck generators for the transaction model, bounded to stay inside the default limits.</summary>
public static class Generators
{
    public static readonly Gen<string> Name =
        Gen.Char['a', 'z'].Array[1, 6].Select(cs => new string(cs));

    public static readonly Gen<byte[]> Blob = Gen.Byte.Array[0, 24];

    public static readonly Gen<Hash256> Hash = Gen.Byte.Array[Hash256.Size].Select(b => new Hash256(b));

    public static readonly Gen<ObjectBody> Body =
        Gen.Select(Name, Name, Blob, (c, t, p) => new ObjectBody(c, t, p));

    public static readonly Gen<ChainObject> Object =
        Gen.Select(Hash, Gen.ULong[0, 300], Body, (h, i, b) => new ChainObject(h, i, b));

    public static Gen<Trace> Trace(int depth) =>
        Gen.Select(Name, Name, Object.Array[0, 3], Object.Array[0, 2], Body.Array[0, 3], Blob, Blob)
            .SelectMany(t => (depth > 0 ? Trace(depth - 1).Array[0, 2] : Gen.Const(Array.Empty<Trace>()))
                .Select(deps => new Trace(t.Item1, t.Item2, t.Item3, t.Item4, t.Item5, t.Item6, t.Item7, deps)));

    public static readonly Gen<Transaction> Transaction =
        Trace(2).Array[1, 3].Select(ts => new Transaction(ts));
}
