namespace Chainspace.Core.Model;

/// <summary>
/// The ids of a transaction as the replicas compute them: id(T), each trace's id (traces in pre-order,
/// top-level traces and their dependencies), and the objects each trace creates.
/// </summary>
public sealed class TransactionIds
{
    private TransactionIds(Hash256 transactionId, Hash256[] traceIds, ChainObject[][] outputs)
    {
        TransactionId = transactionId;
        TraceIds = traceIds;
        OutputsByTrace = outputs;
    }

    public Hash256 TransactionId { get; }
    /// <summary>Trace ids in pre-order: a trace, then its dependencies' subtrees in order, then the next.</summary>
    public IReadOnlyList<Hash256> TraceIds { get; }
    /// <summary>Created objects, indexed like <see cref="TraceIds"/>.</summary>
    public IReadOnlyList<ChainObject[]> OutputsByTrace { get; }

    /// <summary>All created objects, in trace pre-order then local index.</summary>
    public IEnumerable<ChainObject> AllOutputs => OutputsByTrace.SelectMany(o => o);

    /// <summary>The outputs of the top-level trace at <paramref name="index"/>.</summary>
    public ChainObject[] OutputsOfTopLevel(Transaction tx, int index)
    {
        int preorder = 0;
        for (int i = 0; i < index; i++) preorder += CountSubtree(tx.Traces[i]);
        return OutputsByTrace[preorder];
    }

    private static int CountSubtree(Trace t)
    {
        int n = 1;
        foreach (var d in t.Dependencies) n += CountSubtree(d);
        return n;
    }

    [ThreadStatic] private static ParsedTransaction? t_parser;

    internal static TransactionIds Compute(Transaction tx)
    {
        byte[] bytes = tx.Encode();
        // A parser carries scratch sized for the largest transaction: one per thread, not one per transaction
        // (building a load generator's workload computed ids for hundreds of thousands of them).
        var parsed = bytes.Length <= Codec.CodecLimits.Default.TransactionBytesMax
            ? t_parser ??= new ParsedTransaction(Codec.CodecLimits.Default)
            : new ParsedTransaction(Codec.CodecLimits.Default with { TransactionBytesMax = bytes.Length });
        if (!parsed.TryParse(bytes, out var failure)) throw new Codec.CodecException(failure);
        parsed.ComputeIds(bytes);
        var view = parsed.View(bytes);
        var traceIds = new Hash256[parsed.TraceCount];
        var outputs = new ChainObject[parsed.TraceCount][];
        for (int t = 0; t < parsed.TraceCount; t++)
        {
            var trace = view.TraceAt(t);
            traceIds[t] = trace.Id;
            var outs = new ChainObject[trace.Outputs.Count];
            for (int i = 0; i < outs.Length; i++)
            {
                var o = trace.Outputs[i];
                outs[i] = new ChainObject(trace.Id, (ulong)i, o.ToBody());
            }
            outputs[t] = outs;
        }
        return new TransactionIds(view.Id, traceIds, outputs);
    }
}
