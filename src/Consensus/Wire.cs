using Chainspace.Core;
using Chainspace.Core.Codec;

namespace Chainspace.Consensus;

/// <summary>First byte of every PBFT message. Values are part of the wire format: never renumber.</summary>
public enum MessageType : byte
{
    Request = 1,
    PrePrepare = 2,
    Prepare = 3,
    Commit = 4,
    Checkpoint = 5,
    ViewChange = 6,
    NewView = 7,
    Status = 8,
    CheckpointProof = 9,
    FetchState = 10,
    StateSnapshot = 11,
    FetchBatch = 12,
    BatchBody = 13,
    Reply = 14,
    CommittedBatch = 15,
}

/// <summary>How a replica answered a request.</summary>
public enum ReplyStatus : byte
{
    /// <summary>Executed now or earlier; the result is the application's reply.</summary>
    Executed = 0,
    /// <summary>Executed earlier; the result is no longer cached (only the latest reply per client is).</summary>
    AlreadyExecuted = 1,
    /// <summary>The request number is below the client's exactly-once window: refused, never executed.</summary>
    Stale = 2,
}

public readonly ref struct RequestMessage
{
    public readonly ulong Client;
    public readonly ulong RequestNumber;
    public readonly ReadOnlySpan<byte> Operation;

    public RequestMessage(ulong client, ulong requestNumber, ReadOnlySpan<byte> operation)
    {
        Client = client;
        RequestNumber = requestNumber;
        Operation = operation;
    }
}

public readonly ref struct PrePrepareMessage
{
    public readonly ulong View;
    public readonly ulong Sequence;
    public readonly Hash256 Digest;
    public readonly int Signer;
    public readonly ReadOnlySpan<byte> Signature;
    public readonly ReadOnlySpan<byte> Body;

    public PrePrepareMessage(ulong view, ulong sequence, Hash256 digest, int signer, ReadOnlySpan<byte> signature, ReadOnlySpan<byte> body)
    {
        View = view;
        Sequence = sequence;
        Digest = digest;
        Signer = signer;
        Signature = signature;
        Body = body;
    }
}

/// <summary>A Prepare or a Commit: a signed vote for (view, sequence, digest).</summary>
public readonly ref struct VoteMessage
{
    public readonly ulong View;
    public readonly ulong Sequence;
    public readonly Hash256 Digest;
    public readonly int Signer;
    public readonly ReadOnlySpan<byte> Signature;

    public VoteMessage(ulong view, ulong sequence, Hash256 digest, int signer, ReadOnlySpan<byte> signature)
    {
        View = view;
        Sequence = sequence;
        Digest = digest;
        Signer = signer;
        Signature = signature;
    }
}

public readonly ref struct CheckpointMessage
{
    public readonly ulong Sequence;
    public readonly Hash256 Digest;
    public readonly int Signer;
    public readonly ReadOnlySpan<byte> Signature;

    public CheckpointMessage(ulong sequence, Hash256 digest, int signer, ReadOnlySpan<byte> signature)
    {
        Sequence = sequence;
        Digest = digest;
        Signer = signer;
        Signature = signature;
    }
}

public readonly record struct StatusMessage(ulong View, bool ViewActive, ulong LastExecuted, ulong StableSequence);

public readonly ref struct ReplyMessage
{
    public readonly ulong View;
    public readonly ulong Client;
    public readonly ulong RequestNumber;
    public readonly int Replica;
    public readonly ReplyStatus Status;
    public readonly ReadOnlySpan<byte> Result;

    public ReplyMessage(ulong view, ulong client, ulong requestNumber, int replica, ReplyStatus status, ReadOnlySpan<byte> result)
    {
        View = view;
        Client = client;
        RequestNumber = requestNumber;
        Replica = replica;
        Status = status;
        Result = result;
    }
}

/// <summary>
/// Encoders and allocation-free decoders for the hot-path messages (the rare view-change, new-view and
/// state-transfer messages have classes of their own). Writers take a span sized with the matching
/// <c>*LengthMax</c>; readers reject truncated, oversized and trailing bytes and never throw.
/// </summary>
public static class Wire
{
    private const int VarintMax = 10;
    private const int Sig = IReplicaSigner.SignatureSize;

    public static bool TryPeekType(ReadOnlySpan<byte> message, out MessageType type)
    {
        type = message.IsEmpty ? 0 : (MessageType)message[0];
        return !message.IsEmpty && type is >= MessageType.Request and <= MessageType.CommittedBatch;
    }

    // ---- Request: [type][client][requestNumber][operation blob] ----

    public static int RequestLengthMax(int operationLength) => 1 + 3 * VarintMax + operationLength;

    public static int WriteRequest(Span<byte> destination, ulong client, ulong requestNumber, ReadOnlySpan<byte> operation)
    {
        var w = new SpanWriter(destination);
        w.WriteByte((byte)MessageType.Request);
        WriteRequestEntry(ref w, client, requestNumber, operation);
        return w.Written;
    }

    public static bool TryReadRequest(ReadOnlySpan<byte> source, int operationBytesMax, out RequestMessage request)
    {
        request = default;
        var r = new SpanReader(source);
        if (!r.TryReadByte(out byte t) || t != (byte)MessageType.Request) return false;
        return TryReadRequestEntry(ref r, operationBytesMax, out request) && r.TryExpectEnd();
    }

    internal static void WriteRequestEntry(ref SpanWriter w, ulong client, ulong requestNumber, ReadOnlySpan<byte> operation)
    {
        w.WriteVarUInt64(client);
        w.WriteVarUInt64(requestNumber);
        w.WriteBlob(operation);
    }

    internal static bool TryReadRequestEntry(scoped ref SpanReader r, int operationBytesMax, out RequestMessage request)
    {
        request = default;
        if (!r.TryReadVarUInt64(out ulong client) || !r.TryReadVarUInt64(out ulong number)) return false;
        if (!r.TryReadBlob(operationBytesMax, out var op)) return false;
        request = new RequestMessage(client, number, op);
        return true;
    }

    // ---- PrePrepare: [type][view][seq][digest][signer][sig][body blob] ----

    public static int PrePrepareLengthMax(int bodyLength) => 1 + 4 * VarintMax + Hash256.Size + Sig + bodyLength;

    public static int WritePrePrepare(Span<byte> destination, ulong view, ulong sequence, in Hash256 digest, int signer,
        ReadOnlySpan<byte> signature, ReadOnlySpan<byte> body)
    {
        var w = new SpanWriter(destination);
        w.WriteByte((byte)MessageType.PrePrepare);
        w.WriteVarUInt64(view);
        w.WriteVarUInt64(sequence);
        w.WriteHash(digest);
        w.WriteVarUInt64((ulong)signer);
        w.WriteBytes(signature[..Sig]);
        w.WriteBlob(body);
        return w.Written;
    }

    public static bool TryReadPrePrepare(ReadOnlySpan<byte> source, int bodyBytesMax, out PrePrepareMessage message)
    {
        message = default;
        var r = new SpanReader(source);
        if (!r.TryReadByte(out byte t) || t != (byte)MessageType.PrePrepare) return false;
        if (!r.TryReadVarUInt64(out ulong view) || !r.TryReadVarUInt64(out ulong seq) || !r.TryReadHash(out var digest)) return false;
        if (!TryReadSigner(ref r, out int signer) || !r.TryReadBytes(Sig, out var sig)) return false;
        if (!r.TryReadBlob(bodyBytesMax, out var body) || !r.TryExpectEnd()) return false;
        message = new PrePrepareMessage(view, seq, digest, signer, sig, body);
        return true;
    }

    // ---- Prepare / Commit: [type][view][seq][digest][signer][sig] ----

    public const int VoteLengthMax = 1 + 3 * VarintMax + Hash256.Size + Sig;

    public static int WriteVote(Span<byte> destination, MessageType type, ulong view, ulong sequence, in Hash256 digest,
        int signer, ReadOnlySpan<byte> signature)
    {
        if (type is not (MessageType.Prepare or MessageType.Commit)) throw new ArgumentOutOfRangeException(nameof(type));
        var w = new SpanWriter(destination);
        w.WriteByte((byte)type);
        w.WriteVarUInt64(view);
        w.WriteVarUInt64(sequence);
        w.WriteHash(digest);
        w.WriteVarUInt64((ulong)signer);
        w.WriteBytes(signature[..Sig]);
        return w.Written;
    }

    public static bool TryReadVote(ReadOnlySpan<byte> source, MessageType type, out VoteMessage message)
    {
        message = default;
        var r = new SpanReader(source);
        if (!r.TryReadByte(out byte t) || t != (byte)type) return false;
        if (!r.TryReadVarUInt64(out ulong view) || !r.TryReadVarUInt64(out ulong seq) || !r.TryReadHash(out var digest)) return false;
        if (!TryReadSigner(ref r, out int signer) || !r.TryReadBytes(Sig, out var sig) || !r.TryExpectEnd()) return false;
        message = new VoteMessage(view, seq, digest, signer, sig);
        return true;
    }

    // ---- Checkpoint: [type][seq][digest][signer][sig] ----

    public const int CheckpointLengthMax = 1 + 2 * VarintMax + Hash256.Size + Sig;

    public static int WriteCheckpoint(Span<byte> destination, ulong sequence, in Hash256 digest, int signer, ReadOnlySpan<byte> signature)
    {
        var w = new SpanWriter(destination);
        w.WriteByte((byte)MessageType.Checkpoint);
        w.WriteVarUInt64(sequence);
        w.WriteHash(digest);
        w.WriteVarUInt64((ulong)signer);
        w.WriteBytes(signature[..Sig]);
        return w.Written;
    }

    public static bool TryReadCheckpoint(ReadOnlySpan<byte> source, out CheckpointMessage message)
    {
        message = default;
        var r = new SpanReader(source);
        if (!r.TryReadByte(out byte t) || t != (byte)MessageType.Checkpoint) return false;
        if (!r.TryReadVarUInt64(out ulong seq) || !r.TryReadHash(out var digest)) return false;
        if (!TryReadSigner(ref r, out int signer) || !r.TryReadBytes(Sig, out var sig) || !r.TryExpectEnd()) return false;
        message = new CheckpointMessage(seq, digest, signer, sig);
        return true;
    }

    // ---- Status: [type][view][active][lastExecuted][stable] ----

    public const int StatusLengthMax = 2 + 3 * VarintMax;

    public static int WriteStatus(Span<byte> destination, in StatusMessage status)
    {
        var w = new SpanWriter(destination);
        w.WriteByte((byte)MessageType.Status);
        w.WriteVarUInt64(status.View);
        w.WriteByte(status.ViewActive ? (byte)1 : (byte)0);
        w.WriteVarUInt64(status.LastExecuted);
        w.WriteVarUInt64(status.StableSequence);
        return w.Written;
    }

    public static bool TryReadStatus(ReadOnlySpan<byte> source, out StatusMessage status)
    {
        status = default;
        var r = new SpanReader(source);
        if (!r.TryReadByte(out byte t) || t != (byte)MessageType.Status) return false;
        if (!r.TryReadVarUInt64(out ulong view) || !r.TryReadByte(out byte active) || active > 1) return false;
        if (!r.TryReadVarUInt64(out ulong last) || !r.TryReadVarUInt64(out ulong stable) || !r.TryExpectEnd()) return false;
        status = new StatusMessage(view, active == 1, last, stable);
        return true;
    }

    // ---- FetchState: [type][seq][offset]; FetchBatch: [type][seq][digest]; BatchBody: [type][seq][digest][body] ----

    public const int FetchLengthMax = 1 + VarintMax + Hash256.Size;

    /// <summary>Asks for the snapshot of the checkpoint at <paramref name="sequence"/> (or a later one) from byte
    /// <paramref name="offset"/> on.</summary>
    public static int WriteFetchState(Span<byte> destination, ulong sequence, int offset)
    {
        var w = new SpanWriter(destination);
        w.WriteByte((byte)MessageType.FetchState);
        w.WriteVarUInt64(sequence);
        w.WriteVarUInt64((ulong)offset);
        return w.Written;
    }

    public static bool TryReadFetchState(ReadOnlySpan<byte> source, out ulong sequence, out int offset)
    {
        sequence = 0;
        offset = 0;
        var r = new SpanReader(source);
        if (!r.TryReadByte(out byte t) || t != (byte)MessageType.FetchState || !r.TryReadVarUInt64(out sequence)
            || !r.TryReadVarUInt64(out ulong at) || !r.TryExpectEnd() || at > int.MaxValue) return false;
        offset = (int)at;
        return true;
    }

    public static int WriteFetchBatch(Span<byte> destination, ulong sequence, in Hash256 digest)
    {
        var w = new SpanWriter(destination);
        w.WriteByte((byte)MessageType.FetchBatch);
        w.WriteVarUInt64(sequence);
        w.WriteHash(digest);
        return w.Written;
    }

    public static bool TryReadFetchBatch(ReadOnlySpan<byte> source, out ulong sequence, out Hash256 digest)
    {
        sequence = 0;
        digest = default;
        var r = new SpanReader(source);
        return r.TryReadByte(out byte t) && t == (byte)MessageType.FetchBatch && r.TryReadVarUInt64(out sequence)
            && r.TryReadHash(out digest) && r.TryExpectEnd();
    }

    public static int BatchBodyLengthMax(int bodyLength) => FetchLengthMax + VarintMax + bodyLength;

    public static int WriteBatchBody(Span<byte> destination, ulong sequence, in Hash256 digest, ReadOnlySpan<byte> body)
    {
        var w = new SpanWriter(destination);
        w.WriteByte((byte)MessageType.BatchBody);
        w.WriteVarUInt64(sequence);
        w.WriteHash(digest);
        w.WriteBlob(body);
        return w.Written;
    }

    public static bool TryReadBatchBody(ReadOnlySpan<byte> source, int bodyBytesMax, out ulong sequence, out Hash256 digest, out ReadOnlySpan<byte> body)
    {
        sequence = 0;
        digest = default;
        body = default;
        var r = new SpanReader(source);
        return r.TryReadByte(out byte t) && t == (byte)MessageType.BatchBody && r.TryReadVarUInt64(out sequence)
            && r.TryReadHash(out digest) && r.TryReadBlob(bodyBytesMax, out body) && r.TryExpectEnd();
    }

    // ---- CommittedBatch: [type][seq][view][digest][count]([signer][signature])×count[body blob] ----
    // A commit certificate with its batch: 2f+1 signed commits for (view, seq, digest) prove the batch committed
    // at seq, whatever view the receiver is in now.

    public static int CommittedBatchLengthMax(int signers, int bodyLength) =>
        1 + 3 * VarintMax + Hash256.Size + signers * (VarintMax + IReplicaSigner.SignatureSize) + VarintMax + bodyLength;

    public static int WriteCommittedBatch(Span<byte> destination, ulong sequence, ulong view, in Hash256 digest,
        ReadOnlySpan<int> signers, ReadOnlySpan<byte> signatures, ReadOnlySpan<byte> body)
    {
        var w = new SpanWriter(destination);
        w.WriteByte((byte)MessageType.CommittedBatch);
        w.WriteVarUInt64(sequence);
        w.WriteVarUInt64(view);
        w.WriteHash(digest);
        w.WriteVarUInt64((ulong)signers.Length);
        for (int i = 0; i < signers.Length; i++)
        {
            w.WriteVarUInt64((ulong)signers[i]);
            w.WriteBytes(signatures.Slice(i * IReplicaSigner.SignatureSize, IReplicaSigner.SignatureSize));
        }
        w.WriteBlob(body);
        return w.Written;
    }

    /// <summary>Parses a CommittedBatch; <paramref name="signers"/> and <paramref name="signatures"/> receive up to n entries (more is malformed).</summary>
    public static bool TryReadCommittedBatch(ReadOnlySpan<byte> source, int n, int bodyBytesMax, out ulong sequence, out ulong view,
        out Hash256 digest, Span<int> signers, Span<byte> signatures, out int count, out ReadOnlySpan<byte> body)
    {
        sequence = view = 0;
        digest = default;
        count = 0;
        body = default;
        var r = new SpanReader(source);
        if (!r.TryReadByte(out byte t) || t != (byte)MessageType.CommittedBatch || !r.TryReadVarUInt64(out sequence)
            || !r.TryReadVarUInt64(out view) || !r.TryReadHash(out digest) || !r.TryReadVarUInt64(out ulong listed)) return false;
        if (listed > (ulong)n || listed > (ulong)signers.Length) return false;
        for (int i = 0; i < (int)listed; i++)
        {
            if (!r.TryReadVarUInt64(out ulong signer) || signer >= (ulong)n || !r.TryReadBytes(IReplicaSigner.SignatureSize, out var signature)) return false;
            signers[i] = (int)signer;
            signature.CopyTo(signatures.Slice(i * IReplicaSigner.SignatureSize));
        }
        count = (int)listed;
        return r.TryReadBlob(bodyBytesMax, out body) && r.TryExpectEnd();
    }

    // ---- Reply: [type][view][client][reqNo][replica][status][result blob] ----

    public static int ReplyLengthMax(int resultLength) => 2 + 5 * VarintMax + resultLength;

    public static int WriteReply(Span<byte> destination, ulong view, ulong client, ulong requestNumber, int replica,
        ReplyStatus status, ReadOnlySpan<byte> result)
    {
        var w = new SpanWriter(destination);
        w.WriteByte((byte)MessageType.Reply);
        w.WriteVarUInt64(view);
        w.WriteVarUInt64(client);
        w.WriteVarUInt64(requestNumber);
        w.WriteVarUInt64((ulong)replica);
        w.WriteByte((byte)status);
        w.WriteBlob(result);
        return w.Written;
    }

    public static bool TryReadReply(ReadOnlySpan<byte> source, int resultBytesMax, out ReplyMessage reply)
    {
        reply = default;
        var r = new SpanReader(source);
        if (!r.TryReadByte(out byte t) || t != (byte)MessageType.Reply) return false;
        if (!r.TryReadVarUInt64(out ulong view) || !r.TryReadVarUInt64(out ulong client) || !r.TryReadVarUInt64(out ulong number)) return false;
        if (!TryReadSigner(ref r, out int replica) || !r.TryReadByte(out byte status) || status > (byte)ReplyStatus.Stale) return false;
        if (!r.TryReadBlob(resultBytesMax, out var result) || !r.TryExpectEnd()) return false;
        reply = new ReplyMessage(view, client, number, replica, (ReplyStatus)status, result);
        return true;
    }

    // ---- Batch body: [count] then [client][reqNo][op blob] per request ----

    /// <summary>Checks a batch body's structure and limits; returns the request count.</summary>
    public static bool TryValidateBatch(ReadOnlySpan<byte> body, int requestsMax, int operationBytesMax, out int count)
    {
        var r = new SpanReader(body);
        if (!r.TryReadCount(requestsMax, 3, out count)) return false;
        for (int i = 0; i < count; i++)
        {
            if (!TryReadRequestEntry(ref r, operationBytesMax, out _)) return false;
        }
        return r.TryExpectEnd();
    }

    /// <summary>Iterates the requests of a batch body that <see cref="TryValidateBatch"/> accepted.</summary>
    public ref struct BatchReader
    {
        private SpanReader _reader;
        private int _left;

        public BatchReader(ReadOnlySpan<byte> body)
        {
            _reader = new SpanReader(body);
            if (!_reader.TryReadCount(int.MaxValue, 0, out _left)) _left = 0;
        }

        public int Remaining => _left;

        public bool TryNext(out RequestMessage request)
        {
            request = default;
            if (_left == 0) return false;
            _left--;
            return TryReadRequestEntry(ref _reader, int.MaxValue, out request);
        }
    }

    /// <summary>The digest of a batch body: H('B' ‖ version ‖ algorithm ‖ body).</summary>
    public static Hash256 BatchDigest(ReadOnlySpan<byte> body) => Hashing.Domain(HashDomain.Batch, body);

    internal static bool TryReadSigner(scoped ref SpanReader r, out int signer)
    {
        signer = -1;
        if (!r.TryReadVarUInt64(out ulong raw)) return false;
        if (raw > ushort.MaxValue) return r.Fail(CodecError.InvalidValue);
        signer = (int)raw;
        return true;
    }
}
