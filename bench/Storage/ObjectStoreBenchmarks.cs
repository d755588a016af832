using BenchmarkDotNet.Attributes;
using Chainspace.Core;
using Chainspace.Storage.Objects;

namespace Chainspace.Bench.Storage;

/// <summary>
/// Object-state lookups by id (the Fig. 2 "is it usable" check on every input and reference) in the store's
/// open-addressing table, beside a Dictionary with struct values as the baseline; and one S-BAC lock/unlock
/// round trip. One operation is one lookup (or one lock + unlock of three objects).
/// </summary>
[MemoryDiagnoser]
public class ObjectStoreBenchmarks
{
    private const int Lookups = 1024;

    [Params(10_000, 1_000_000)]
    public int Objects { get; set; }

    private ObjectStore _store = null!;
    private Dictionary<Hash256, (ObjectState State, int Lock)> _dictionary = null!;
    private Hash256[] _probes = null!;
    private Hash256 _tx;

    [GlobalSetup]
    public void Setup()
    {
        var ids = new Hash256[Objects];
        for (int i = 0; i < ids.Length; i++) ids[i] = Hashing.Sha256(BitConverter.GetBytes(i));
        _store = new ObjectStore(Objects);
        _store.Create(ids);
        _dictionary = new Dictionary<Hash256, (ObjectState, int)>(Objects);
        foreach (var id in ids) _dictionary.Add(id, (ObjectState.Active, -1));
        var random = new Random(3);
        _probes = new Hash256[Lookups];
        for (int i = 0; i < Lookups; i++) _probes[i] = ids[random.Next(ids.Length)];
        _tx = Hashing.Sha256([1, 2, 3]);
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Lookups)]
    public int DictionaryLookup()
    {
        int usable = 0;
        foreach (var id in _probes)
        {
            if (_dictionary.TryGetValue(id, out var entry) && entry.State == ObjectState.Active) usable++;
        }
        return usable;
    }

    [Benchmark(OperationsPerInvoke = Lookups)]
    public int StoreLookup()
    {
        int usable = 0;
        foreach (var id in _probes)
        {
            if (_store.IsUsable(id)) usable++;
        }
        return usable;
    }

    [Benchmark]
    public int LockUnlockThree()
    {
        _store.TryLock(_probes.AsSpan(0, 3), _tx);
        return _store.Unlock(_tx);
    }
}
