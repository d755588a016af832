using System.Text.Json;
using System.Text.Json.Nodes;
using Chainspace.Core;
using Chainspace.Core.Cluster;
using Chainspace.Core.Codec;
using Chainspace.Sbac;

namespace Chainspace.Client;

/// <summary>
/// A transaction's receipt (paper §IV-C): the transaction itself, the decision, and LOCALPREPARED proofs (f+1
/// replicas of a shard signing the same batch statement, with the transaction's leaf under its root) from every
/// concerned shard for a commit, or from one concerned shard for an abort. Anyone holding the cluster file can
/// check it (<see cref="Verify"/>); the concerned shards are recomputed from the transaction, so a receipt cannot
/// leave a shard out. JSON: <c>{"transaction": hex, "decision": "commit"|"abort", "proofs": hex}</c>, where
/// proofs is the count and the proofs in the encoding an Accept command carries.
/// </summary>
public sealed class Receipt
{
    public Receipt(byte[] transaction, Decision decision, byte[] proofs)
    {
        Transaction = transaction ?? throw new ArgumentNullException(nameof(transaction));
        Decision = decision;
        Proofs = proofs ?? throw new ArgumentNullException(nameof(proofs));
    }

    /// <summary>The encoded transaction.</summary>
    public byte[] Transaction { get; }
    public Decision Decision { get; }
    /// <summary>varint count ‖ LocalPreparedProof × count.</summary>
    public byte[] Proofs { get; }

    /// <summary>Checks the receipt against the cluster configuration; <paramref name="findings"/> gets one line per proof.</summary>
    public bool Verify(ClusterConfig config, out string error, List<string>? findings = null)
    {
        var parsed = new ParsedTransaction(CodecLimits.Default);
        if (!parsed.TryParse(Transaction, out var failure))
        {
            error = $"the transaction does not parse: {failure}";
            return false;
        }
        var txId = parsed.ComputeIds(Transaction);
        Span<uint> concerned = stackalloc uint[(int)config.ShardMap.ShardCount];
        concerned = concerned[..parsed.ConcernedShards(config.ShardMap, concerned)];
        var verifier = ProofVerifier.FromConfiguration(config);
        var reader = new SpanReader(Proofs);
        if (!reader.TryReadCount(SbacCommand.ProofsMax, LocalPreparedProof.MinEncodedBytes, out int count))
        {
            error = "the proof list does not parse";
            return false;
        }
        Span<bool> proved = stackalloc bool[concerned.Length];
        bool abortProved = false;
        int at = reader.Consumed;
        for (int i = 0; i < count; i++)
        {
            if (!LocalPreparedProof.TryRead(Proofs.AsSpan(at), out var proof, out int length, out var proofFailure))
            {
                error = $"proof {i} does not parse: {proofFailure}";
                return false;
            }
            at += length;
            int index = concerned.IndexOf(proof.Shard);
            if (index < 0)
            {
                error = $"proof {i} is from shard {proof.Shard}, which the transaction does not concern";
                return false;
            }
            if (!verifier.Verify(proof, txId))
            {
                error = $"proof {i} (shard {proof.Shard}) does not verify: fewer than f+1 valid signatures, or the transaction is not under the signed root";
                return false;
            }
            var signers = new List<ushort>();
            var e = proof.EnumerateSignatures();
            while (e.MoveNext()) signers.Add(e.Replica);
            findings?.Add($"shard {proof.Shard}: LOCALPREPARED({proof.Decision.ToString().ToLowerInvariant()}) at batch {proof.BatchSequence}, " +
                          $"leaf {proof.LeafIndex} of {proof.LeafCount}, signed by replicas {string.Join(",", signers)}");
            if (proof.Decision == Decision.Commit) proved[index] = true;
            else abortProved = true;
        }
        if (at != Proofs.Length)
        {
            error = "bytes after the last proof";
            return false;
        }
        if (Decision == Decision.Abort)
        {
            error = abortProved ? "" : "an abort needs a LOCALPREPARED(abort) proof from one concerned shard";
            return abortProved;
        }
        if (abortProved)
        {
            error = "a commit receipt holds an abort proof";
            return false;
        }
        for (int i = 0; i < concerned.Length; i++)
        {
            if (!proved[i])
            {
                error = $"a commit needs a LOCALPREPARED(commit) proof from every concerned shard; shard {concerned[i]} has none";
                return false;
            }
        }
        error = "";
        return true;
    }

    public Hash256 TransactionId()
    {
        var parsed = new ParsedTransaction(CodecLimits.Default);
        if (!parsed.TryParse(Transaction, out var failure)) throw new FormatException($"the transaction does not parse: {failure}");
        return parsed.ComputeIds(Transaction);
    }

    public void Save(string path)
    {
        var json = new JsonObject
        {
            ["transaction"] = Convert.ToHexStringLower(Transaction),
            ["decision"] = Decision == Decision.Commit ? "commit" : "abort",
            ["proofs"] = Convert.ToHexStringLower(Proofs),
        };
        File.WriteAllText(path, json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>Loads a receipt file; every problem is a <see cref="FormatException"/> naming the file and field.</summary>
    public static Receipt Load(string path)
    {
        var root = JsonFile.ReadObject("receipt", path, "transaction", "decision", "proofs");
        var decision = JsonFile.String(root, "decision", "receipt", path) switch
        {
            "commit" => Decision.Commit,
            "abort" => Decision.Abort,
            var other => throw new FormatException($"receipt {path}: decision: '{other}' is neither commit nor abort"),
        };
        return new Receipt(JsonFile.Hex(root, "transaction", "receipt", path), decision, JsonFile.Hex(root, "proofs", "receipt", path));
    }
}
