using System.Text;
using Chainspace.Core.Model;

namespace Chainspace.Core;

/// <summary>A transaction seen through a <see cref="ParsedTransaction"/>: no copies, no allocation.</summary>
public readonly ref struct TransactionView
{
    private readonly ReadOnlySpan<byte> _bytes;
    private readonly ParsedTransaction _parsed;

    internal TransactionView(ReadOnlySpan<byte> bytes, ParsedTransaction parsed)
    {
        _bytes = bytes;
        _parsed = parsed;
    }

    public ReadOnlySpan<byte> Bytes => _bytes;
    public Hash256 Id => _parsed.Id;
    public TraceList Traces => new(_bytes, _parsed, _parsed.RootFirst, _parsed.TopLevelCount);
    public int TraceCount => _parsed.TraceCount;

    /// <summary>The trace at a pre-order index (0 .. TraceCount-1), dependencies included.</summary>
    public TraceView TraceAt(int preorderIndex)
    {
        if ((uint)preorderIndex >= (uint)_parsed.TraceCount) throw new ArgumentOutOfRangeException(nameof(preorderIndex));
        return new TraceView(_bytes, _parsed, preorderIndex);
    }

    public int ObjectCount => _parsed.ObjectCount;
    public ObjectView ObjectAt(int index)
    {
        if ((uint)index >= (uint)_parsed.ObjectCount) throw new ArgumentOutOfRangeException(nameof(index));
        return new ObjectView(_bytes, _parsed, index);
    }

    /// <summary>Materializes the allocating model (tools and tests, never the hot path).</summary>
    public Transaction ToModel()
    {
        var list = Traces;
        var traces = new Trace[list.Count];
        for (int i = 0; i < traces.Length; i++) traces[i] = list[i].ToModel();
        return new Transaction(traces);
    }
}

/// <summary>One trace: its fields are spans into the transaction bytes.</summary>
public readonly ref struct TraceView
{
    private readonly ReadOnlySpan<byte> _bytes;
    private readonly ParsedTransaction _parsed;
    private readonly int _index;

    internal TraceView(ReadOnlySpan<byte> bytes, ParsedTransaction parsed, int index)
    {
        _bytes = bytes;
        _parsed = parsed;
        _index = index;
    }

    private ref readonly ParsedTransaction.TraceRecord Record => ref _parsed.TraceAt(_index);

    /// <summary>Pre-order index of this trace within its transaction.</summary>
    public int Index => _index;
    public int Depth => Record.Depth;
    public ReadOnlySpan<byte> Contract => _bytes.Slice(Record.ContractOffset, Record.ContractLength);
    public ReadOnlySpan<byte> Procedure => _bytes.Slice(Record.ProcedureOffset, Record.ProcedureLength);
    public ObjectList Inputs => new(_bytes, _parsed, Record.InputFirst, Record.InputCount);
    public ObjectList References => new(_bytes, _parsed, Record.ReferenceFirst, Record.ReferenceCount);
    public ObjectList Outputs => new(_bytes, _parsed, Record.OutputFirst, Record.OutputCount);
    public ReadOnlySpan<byte> Parameters => _bytes.Slice(Record.ParametersOffset, Record.ParametersLength);
    public ReadOnlySpan<byte> Returns => _bytes.Slice(Record.ReturnsOffset, Record.ReturnsLength);
    public TraceList Dependencies => new(_bytes, _parsed, Record.DependencyFirst, Record.DependencyCount);
    public Hash256 Id => _parsed.HasIds ? Record.Id : throw new InvalidOperationException("ids not computed");

    public bool ContractIs(ReadOnlySpan<byte> name) => Contract.SequenceEqual(name);
    public bool ProcedureIs(ReadOnlySpan<byte> name) => Procedure.SequenceEqual(name);

    public Trace ToModel()
    {
        var deps = Dependencies;
        var dependencies = new Trace[deps.Count];
        for (int i = 0; i < dependencies.Length; i++) dependencies[i] = deps[i].ToModel();
        return new Trace(
            Encoding.ASCII.GetString(Contract),
            Encoding.ASCII.GetString(Procedure),
            Inputs.ToObjects(),
            References.ToObjects(),
            Outputs.ToBodies(),
            Parameters.ToArray(),
            Returns.ToArray(),
            dependencies);
    }

    public override string ToString() => $"{Encoding.ASCII.GetString(Contract)}.{Encoding.ASCII.GetString(Procedure)}";
}

/// <summary>A list of traces (top-level traces or a trace's dependencies).</summary>
public readonly ref struct TraceList
{
    private readonly ReadOnlySpan<byte> _bytes;
    private readonly ParsedTransaction _parsed;
    private readonly int _first;

    internal TraceList(ReadOnlySpan<byte> bytes, ParsedTransaction parsed, int first, int count)
    {
        _bytes = bytes;
        _parsed = parsed;
        _first = first;
        Count = count;
    }

    public int Count { get; }

    public TraceView this[int index]
    {
        get
        {
            if ((uint)index >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(index));
            return new TraceView(_bytes, _parsed, _parsed.ChildAt(_first + index));
        }
    }
}

/// <summary>A trace's inputs, references or outputs.</summary>
public readonly ref struct ObjectList
{
    private readonly ReadOnlySpan<byte> _bytes;
    private readonly ParsedTransaction _parsed;
    private readonly int _first;

    internal ObjectList(ReadOnlySpan<byte> bytes, ParsedTransaction parsed, int first, int count)
    {
        _bytes = bytes;
        _parsed = parsed;
        _first = first;
        Count = count;
    }

    public int Count { get; }

    public ObjectView this[int index]
    {
        get
        {
            if ((uint)index >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(index));
            return new ObjectView(_bytes, _parsed, _first + index);
        }
    }

    internal ChainObject[] ToObjects()
    {
        var result = new ChainObject[Count];
        for (int i = 0; i < result.Length; i++) result[i] = this[i].ToChainObject();
        return result;
    }

    internal ObjectBody[] ToBodies()
    {
        var result = new ObjectBody[Count];
        for (int i = 0; i < result.Length; i++) result[i] = this[i].ToBody();
        return result;
    }
}

/// <summary>One object of a trace: its type, payload and (after ComputeIds) id.</summary>
public readonly ref struct ObjectView
{
    private readonly ReadOnlySpan<byte> _bytes;
    private readonly ParsedTransaction _parsed;
    private readonly int _index;

    internal ObjectView(ReadOnlySpan<byte> bytes, ParsedTransaction parsed, int index)
    {
        _bytes = bytes;
        _parsed = parsed;
        _index = index;
    }

    private ref readonly ParsedTransaction.ObjectRecord Record => ref _parsed.ObjectAt(_index);

    /// <summary>Index of this object within the transaction's object table.</summary>
    public int Index => _index;
    public ObjectRole Role => Record.Role;
    public Hash256 Id => _parsed.HasIds ? Record.Id : throw new InvalidOperationException("ids not computed");
    /// <summary>True for an input or reference that no trace of this transaction creates (ζ \ ξ).</summary>
    public bool IsFree => _parsed.HasIds ? Record.IsFree : throw new InvalidOperationException("ids not computed");
    public ReadOnlySpan<byte> Contract => _bytes.Slice(Record.ContractOffset, Record.ContractLength);
    public ReadOnlySpan<byte> Type => _bytes.Slice(Record.TypeOffset, Record.TypeLength);
    public ReadOnlySpan<byte> Payload => _bytes.Slice(Record.PayloadOffset, Record.PayloadLength);
    /// <summary>The body's encoding: contract ‖ type ‖ payload.</summary>
    public ReadOnlySpan<byte> Body => _bytes[Record.BodyOffset..Record.End];
    /// <summary>Inputs and references: creator trace id ‖ index ‖ body. Outputs: the body.</summary>
    public ReadOnlySpan<byte> Encoded => _bytes[Record.Start..Record.End];

    public ObjectBody ToBody() => new(Encoding.ASCII.GetString(Contract), Encoding.ASCII.GetString(Type), Payload.ToArray());

    public ChainObject ToChainObject()
    {
        if (Role == ObjectRole.Output) throw new InvalidOperationException("an output has no reference encoding; use its trace id");
        var reader = new Codec.SpanReader(Encoded);
        reader.TryReadHash(out var creator);
        reader.TryReadVarUInt64(out ulong localIndex);
        return new ChainObject(creator, localIndex, ToBody());
    }
}
