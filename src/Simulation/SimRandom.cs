namespace Chainspace.Simulation;

/// <summary>
/// The simulator's only source of chance: xoshiro256** seeded through SplitMix64. Same seed, same stream,
/// on every machine and runtime (System.Random's algorithm is not a compatibility promise).
/// </summary>
public sealed class SimRandom
{
    private ulong _s0, _s1, _s2, _s3;

    public SimRandom(ulong seed)
    {
        _s0 = SplitMix(ref seed);
        _s1 = SplitMix(ref seed);
        _s2 = SplitMix(ref seed);
        _s3 = SplitMix(ref seed);
    }

    private static ulong SplitMix(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    public ulong NextUInt64()
    {
        ulong result = ulong.RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = ulong.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>Uniform in [0, max).</summary>
    public int Next(int max) => max <= 1 ? 0 : (int)(NextUInt64() % (ulong)max);

    /// <summary>Uniform in [min, max].</summary>
    public int Range(int min, int max) => min + Next(max - min + 1);

    public bool Chance(double probability) => probability > 0 && (NextUInt64() >> 11) * (1.0 / (1UL << 53)) < probability;

    /// <summary>A new generator derived from this one (for independent sub-streams).</summary>
    public SimRandom Fork() => new(NextUInt64());

    public void NextBytes(Span<byte> destination)
    {
        for (int i = 0; i < destination.Length; i++) destination[i] = (byte)NextUInt64();
    }
}
