using System.Diagnostics;
using Chainspace.Core.Codec;

namespace Chainspace.Core;

/// <summary>Which list of its trace an object belongs to.</summary>
public enum ObjectRole : byte { Input, Reference, Output }

/// <summary>
/// A reusable, zero-copy index over one encoded transaction. <see cref="TryParse"/> checks the whole
/// structure against <see cref="CodecLimits"/> (canonical varints, names, counts, depth, no trailing
/// bytes) and records offsets; <see cref="ComputeIds"/> derives every id of the hash-DAG. Neither
/// allocates: all tables are sized from the limits at construction. One instance per thread
/// (a replica's event loop owns one); it is reset by the next parse.
///
/// Ids (see ChainObject, Trace and Transaction for the wire forms):
///   id(o_in)  = H('O' ‖ v ‖ alg ‖ object reference encoding)
///   id(trace) = H('T' ‖ v ‖ alg ‖ contract ‖ procedure ‖ n ‖ input ids ‖ n ‖ reference ids ‖
///                 outputs list encoding ‖ parameters ‖ returns ‖ n ‖ dependency ids)
///   id(o_out) = H('O' ‖ v ‖ alg ‖ id(trace) ‖ varint index ‖ body)   (same form as an input's)
///   id(T)     = H('X' ‖ v ‖ alg ‖ n ‖ top-level trace ids)
/// Output ids are not in the trace id (they derive from it) but output bodies are, so id(T) commits
/// to every byte of the transaction that matters.
/// </summary>
public sealed class ParsedTransaction
{
    internal struct TraceRecord
    {
        public int Start;               // first byte of the trace (its contract name)
        public int InputsStart;         // first byte of the input list (its count)
        public int OutputsStart;        // first byte of the output list (its count)
        public int DependenciesStart;   // first byte of the dependency list (its count)
        public int ContractOffset, ContractLength;
        public int ProcedureOffset, ProcedureLength;
        public int InputFirst, InputCount;
        public int ReferenceFirst, ReferenceCount;
        public int OutputFirst, OutputCount;
        public int ParametersOffset, ParametersLength;
        public int ReturnsOffset, ReturnsLength;
        public int DependencyFirst, DependencyCount;   // into _children
        public int Depth;
        public Hash256 Id;
    }

    internal struct ObjectRecord
    {
        public int Start;       // inputs/references: reference encoding start; outputs: body start
        public int End;
        public int BodyOffset;
        public int ContractOffset, ContractLength;
        public int TypeOffset, TypeLength;
        public int PayloadOffset, PayloadLength;
        public int Trace;
        public ObjectRole Role;
        public bool IsFree;     // input/reference not created inside this transaction (in ζ \ ξ)
        public Hash256 Id;
    }

    private readonly CodecLimits _limits;
    private readonly TraceRecord[] _traces;
    private readonly ObjectRecord[] _objects;
    private readonly int[] _children;     // dependency lists, then the top-level list at _rootFirst
    private readonly byte[] _scratch;     // preimage buffer for hashing
    private int _traceCount, _objectCount, _childCount;
    private int _rootFirst, _rootCount;
    private int _length;
    private bool _parsed, _hashed;
    private Hash256 _id;

    public ParsedTransaction(CodecLimits limits)
    {
        _limits = (limits ?? throw new ArgumentNullException(nameof(limits))).Validate();
        _traces = new TraceRecord[limits.TracesPerTransactionMax];
        _objects = new ObjectRecord[limits.ObjectsPerTransactionMax];
        _children = new int[limits.TracesPerTransactionMax * 2];
        // Largest preimage: a trace's own bytes plus 32 B per input, reference and dependency id.
        _scratch = new byte[limits.TransactionBytesMax + Hashing.PrefixSize + 64
                            + Hash256.Size * (2 * limits.ObjectsPerTraceMax + limits.TracesPerTransactionMax)];
    }

    public CodecLimits Limits => _limits;
    public int TraceCount => _traceCount;
    public int ObjectCount => _objectCount;
    public int TopLevelCount => _rootCount;
    public int EncodedLength => _length;
    public bool HasIds => _hashed;

    public Hash256 Id
    {
        get
        {
            if (!_hashed) ThrowNoIds();
            return _id;
        }
    }

    internal ref readonly TraceRecord TraceAt(int index) => ref _traces[index];
    internal ref readonly ObjectRecord ObjectAt(int index) => ref _objects[index];
    internal int ChildAt(int index) => _children[index];
    internal int RootFirst => _rootFirst;

    // ---------------------------------------------------------------- parsing

    /// <summary>Parses and checks the structure. On failure nothing of this instance is usable.</summary>
    public bool TryParse(ReadOnlySpan<byte> bytes, out CodecFailure failure)
    {
        _parsed = _hashed = false;
        _traceCount = _objectCount = _childCount = 0;
        _length = bytes.Length;
        if (bytes.Length > _limits.TransactionBytesMax)
        {
            failure = new CodecFailure(CodecError.LengthOverLimit, 0);
            return false;
        }
        var reader = new SpanReader(bytes);
        if (!reader.TryReadFormatHeader()
            || !TryReadTraceList(ref reader, depth: 0, out _rootFirst, out _rootCount)
            || !reader.TryExpectEnd())
        {
            failure = reader.Failure;
            Debug.Assert(failure.IsError);
            return false;
        }
        if (_rootCount == 0)
        {
            failure = new CodecFailure(CodecError.InvalidValue, 2);
            return false;
        }
        _parsed = true;
        failure = default;
        return true;
    }

    // Minimum encoded sizes, used to bound counts against the remaining input before looping.
    private const int MinTraceBytes = 2 + 2 + 1 + 1 + 1 + 1 + 1 + 1;  // names, 3 lists, 2 blobs, deps
    private const int MinBodyBytes = 2 + 2 + 1;
    private const int MinReferenceBytes = Hash256.Size + 1 + MinBodyBytes;

    private bool TryReadTraceList(ref SpanReader reader, int depth, out int first, out int count)
    {
        first = 0;
        int countOffset = reader.Consumed;
        if (!reader.TryReadCount(_limits.TracesPerTransactionMax, MinTraceBytes, out count)) return false;
        if (_childCount + count > _children.Length || _traceCount + count > _traces.Length)
            return reader.Fail(CodecError.CountOverLimit, countOffset);
        first = _childCount;
        _childCount += count;   // reserve the slots; children fill them as they are parsed
        for (int i = 0; i < count; i++)
        {
            if (!TryReadTrace(ref reader, depth, out int index)) return false;
            _children[first + i] = index;
        }
        return true;
    }

    private bool TryReadTrace(ref SpanReader reader, int depth, out int index)
    {
        index = _traceCount;
        if (_traceCount >= _traces.Length) return reader.Fail(CodecError.CountOverLimit);
        if (depth > _limits.DependencyDepthMax) return reader.Fail(CodecError.DepthOverLimit);
        _traceCount++;
        ref var t = ref _traces[index];
        t = default;
        t.Depth = depth;
        t.Start = reader.Consumed;

        if (!reader.TryReadName(_limits.NameBytesMax, out var contract)) return false;
        t.ContractOffset = reader.Consumed - contract.Length;
        t.ContractLength = contract.Length;
        if (!reader.TryReadName(_limits.NameBytesMax, out var procedure)) return false;
        t.ProcedureOffset = reader.Consumed - procedure.Length;
        t.ProcedureLength = procedure.Length;

        t.InputsStart = reader.Consumed;
        if (!TryReadObjectList(ref reader, index, ObjectRole.Input, out t.InputFirst, out t.InputCount)) return false;
        if (!TryReadObjectList(ref reader, index, ObjectRole.Reference, out t.ReferenceFirst, out t.ReferenceCount)) return false;
        t.OutputsStart = reader.Consumed;
        if (!TryReadObjectList(ref reader, index, ObjectRole.Output, out t.OutputFirst, out t.OutputCount)) return false;

        if (!reader.TryReadBlob(_limits.BlobBytesMax, out var parameters)) return false;
        t.ParametersOffset = reader.Consumed - parameters.Length;
        t.ParametersLength = parameters.Length;
        if (!reader.TryReadBlob(_limits.BlobBytesMax, out var returns)) return false;
        t.ReturnsOffset = reader.Consumed - returns.Length;
        t.ReturnsLength = returns.Length;

        t.DependenciesStart = reader.Consumed;
        if (depth == _limits.DependencyDepthMax)
        {
            // At the deepest level only an empty dependency list is allowed.
            int at = reader.Consumed;
            if (!reader.TryReadVarUInt64(out ulong n)) return false;
            if (n != 0) return reader.Fail(CodecError.DepthOverLimit, at);
            t.DependencyFirst = _childCount;
            return true;
        }
        // `t` refers into the fixed array, so it stays valid while the dependencies fill other records.
        return TryReadTraceList(ref reader, depth + 1, out t.DependencyFirst, out t.DependencyCount);
    }

    private bool TryReadObjectList(ref SpanReader reader, int trace, ObjectRole role, out int first, out int count)
    {
        first = _objectCount;
        int countOffset = reader.Consumed;
        int minBytes = role == ObjectRole.Output ? MinBodyBytes : MinReferenceBytes;
        if (!reader.TryReadCount(_limits.ObjectsPerTraceMax, minBytes, out count)) return false;
        if (_objectCount + count > _objects.Length) return reader.Fail(CodecError.CountOverLimit, countOffset);
        for (int i = 0; i < count; i++)
        {
            ref var o = ref _objects[_objectCount];
            o = default;
            o.Trace = trace;
            o.Role = role;
            o.Start = reader.Consumed;
            if (role != ObjectRole.Output)
            {
                if (!reader.TryReadBytes(Hash256.Size, out _)) return false;
                if (!reader.TryReadVarUInt64(out _)) return false;
            }
            o.BodyOffset = reader.Consumed;
            if (!reader.TryReadName(_limits.NameBytesMax, out var contract)) return false;
            o.ContractOffset = reader.Consumed - contract.Length;
            o.ContractLength = contract.Length;
            if (!reader.TryReadName(_limits.NameBytesMax, out var type)) return false;
            o.TypeOffset = reader.Consumed - type.Length;
            o.TypeLength = type.Length;
            if (!reader.TryReadBlob(_limits.BlobBytesMax, out var payload)) return false;
            o.PayloadOffset = reader.Consumed - payload.Length;
            o.PayloadLength = payload.Length;
            o.End = reader.Consumed;
            _objectCount++;
        }
        return true;
    }

    // ---------------------------------------------------------------- ids

    /// <summary>Computes every id of the hash-DAG for the parsed bytes (which must be the same bytes).</summary>
    public Hash256 ComputeIds(ReadOnlySpan<byte> bytes)
    {
        CheckSameBytes(bytes);
        for (int i = 0; i < _rootCount; i++) ComputeTraceIds(bytes, _children[_rootFirst + i]);

        Span<byte> scratch = _scratch;
        Hashing.WritePrefix(scratch, HashDomain.Transaction);
        var writer = new SpanWriter(scratch[Hashing.PrefixSize..]);
        writer.WriteVarUInt64((ulong)_rootCount);
        for (int i = 0; i < _rootCount; i++) writer.WriteHash(_traces[_children[_rootFirst + i]].Id);
        _id = HashScratch(Hashing.PrefixSize + writer.Written);

        MarkFreeObjects();
        _hashed = true;
        return _id;
    }

    private void ComputeTraceIds(ReadOnlySpan<byte> bytes, int index)
    {
        // Dependencies first: their ids are part of this trace's preimage.
        int depFirst = _traces[index].DependencyFirst, depCount = _traces[index].DependencyCount;
        for (int i = 0; i < depCount; i++) ComputeTraceIds(bytes, _children[depFirst + i]);

        ref var t = ref _traces[index];
        int objectsEnd = t.OutputFirst;   // inputs then references are contiguous before outputs
        for (int k = t.InputFirst; k < objectsEnd; k++)
        {
            ref var o = ref _objects[k];
            o.Id = HashObject(bytes.Slice(o.Start, o.End - o.Start));
        }

        Span<byte> scratch = _scratch;
        Hashing.WritePrefix(scratch, HashDomain.Trace);
        var w = new SpanWriter(scratch[Hashing.PrefixSize..]);
        w.WriteBytes(bytes[t.Start..t.InputsStart]);                  // contract, procedure
        w.WriteVarUInt64((ulong)t.InputCount);
        for (int k = 0; k < t.InputCount; k++) w.WriteHash(_objects[t.InputFirst + k].Id);
        w.WriteVarUInt64((ulong)t.ReferenceCount);
        for (int k = 0; k < t.ReferenceCount; k++) w.WriteHash(_objects[t.ReferenceFirst + k].Id);
        w.WriteBytes(bytes[t.OutputsStart..t.DependenciesStart]);     // outputs, parameters, returns
        w.WriteVarUInt64((ulong)depCount);
        for (int i = 0; i < depCount; i++) w.WriteHash(_traces[_children[depFirst + i]].Id);
        t.Id = HashScratch(Hashing.PrefixSize + w.Written);

        for (int k = 0; k < t.OutputCount; k++)
        {
            ref var o = ref _objects[t.OutputFirst + k];
            Hashing.WritePrefix(scratch, HashDomain.Object);
            var ow = new SpanWriter(scratch[Hashing.PrefixSize..]);
            ow.WriteHash(t.Id);
            ow.WriteVarUInt64((ulong)k);
            ow.WriteBytes(bytes[o.Start..o.End]);
            o.Id = HashScratch(Hashing.PrefixSize + ow.Written);
        }
    }

    private Hash256 HashObject(ReadOnlySpan<byte> referenceEncoding)
    {
        Span<byte> scratch = _scratch;
        Hashing.WritePrefix(scratch, HashDomain.Object);
        referenceEncoding.CopyTo(scratch[Hashing.PrefixSize..]);
        return HashScratch(Hashing.PrefixSize + referenceEncoding.Length);
    }

    private Hash256 HashScratch(int length)
    {
        Span<byte> digest = stackalloc byte[Hash256.Size];
        Crypto.Sha256.Hash(_scratch.AsSpan(0, length), digest);
        return new Hash256(digest);
    }

    /// <summary>ζ \ ξ: an input or reference is free unless some trace of T outputs it.</summary>
    private void MarkFreeObjects()
    {
        for (int i = 0; i < _objectCount; i++)
        {
            ref var o = ref _objects[i];
            if (o.Role == ObjectRole.Output) continue;
            o.IsFree = true;
            for (int j = 0; j < _objectCount; j++)
            {
                if (_objects[j].Role == ObjectRole.Output && _objects[j].Id == o.Id)
                {
                    o.IsFree = false;
                    break;
                }
            }
        }
    }

    // ---------------------------------------------------------------- shards

    /// <summary>
    /// Φ(T): the distinct shards of the free inputs and references, ascending, written to
    /// <paramref name="shards"/> (at least K long). Returns how many.
    /// </summary>
    public int ConcernedShards(ShardMap map, Span<uint> shards) => CollectShards(map, shards, outputs: false);

    /// <summary>The distinct shards of the objects T creates: where a commit must create outputs.</summary>
    public int OutputShards(ShardMap map, Span<uint> shards) => CollectShards(map, shards, outputs: true);

    private int CollectShards(ShardMap map, Span<uint> shards, bool outputs)
    {
        if (!_hashed) ThrowNoIds();
        if (shards.Length < map.ShardCount) throw new ArgumentException("the span must hold one entry per shard", nameof(shards));
        int n = 0;
        for (int i = 0; i < _objectCount; i++)
        {
            ref readonly var o = ref _objects[i];
            bool wanted = outputs ? o.Role == ObjectRole.Output : o.IsFree;
            if (!wanted) continue;
            uint s = map.ShardOf(o.Id);
            int at = 0;
            while (at < n && shards[at] < s) at++;
            if (at < n && shards[at] == s) continue;
            for (int k = n; k > at; k--) shards[k] = shards[k - 1];
            shards[at] = s;
            n++;
        }
        return n;
    }

    // ---------------------------------------------------------------- views

    public TransactionView View(ReadOnlySpan<byte> bytes)
    {
        CheckSameBytes(bytes);
        return new TransactionView(bytes, this);
    }

    private void CheckSameBytes(ReadOnlySpan<byte> bytes)
    {
        if (!_parsed) throw new InvalidOperationException("no transaction has been parsed");
        if (bytes.Length != _length) throw new ArgumentException("these are not the bytes that were parsed", nameof(bytes));
    }

    private static void ThrowNoIds() => throw new InvalidOperationException("ComputeIds has not run for this transaction");
}
