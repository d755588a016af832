using System.Buffers.Binary;
using Chainspace.Core.Cluster;
using Chainspace.Core.Crypto;
using Chainspace.Transport.Framing;
using Chainspace.Transport.Handshake;
using K4os.Compression.LZ4;

namespace Chainspace.Transport;

public abstract partial class Connection
{
    /// <summary>
    /// Every complete frame the receiver parses comes here, in order, from the receive loop. Returns false
    /// once the connection is closed, so the receiver stops parsing.
    /// </summary>
    bool IFrameConsumer.OnWireFrame(in FrameHeader header, ReadOnlySpan<byte> payload)
    {
        switch (Volatile.Read(ref _state))
        {
            case StateEstablished:
                return OnApplicationFrame(header, payload);
            case StateAwaitHello:
                if (header.Type != FrameHeader.HelloType || header.Flags != FrameFlags.None) return Reject($"frame type 0x{header.Type:X2} before handshake");
                return OnHello(payload);
            case StateAwaitProof:
                if (header.Type != FrameHeader.ProofType || header.Flags != FrameFlags.None) return Reject($"frame type 0x{header.Type:X2} while awaiting handshake proof");
                return OnProof(payload);
            default:
                return false;
        }
    }

    /// <summary>Closes on peer misbehaviour, logged as a warning with the reason; returns false for the parser.</summary>
    bool IFrameConsumer.Reject(string reason) => Reject(reason);

    /// <summary>Handshake frames are a hello or a signature; anything longer before authentication is hostile.</summary>
    private const int HandshakePayloadBytesMax = 256;

    int IFrameConsumer.PayloadBytesLimit => Volatile.Read(ref _state) == StateEstablished ? int.MaxValue : HandshakePayloadBytesMax;

    internal bool Reject(string reason)
    {
        Close(reason, TransportLogLevel.Warning);
        return false;
    }

    private bool OnApplicationFrame(in FrameHeader header, ReadOnlySpan<byte> payload)
    {
        var allowed = Peer.IsClient ? _core.Options.ClientFrameTypes : _core.Options.PeerFrameTypes;
        if (!allowed.Contains(header.Type)) return Reject($"frame type 0x{header.Type:X2} not allowed from {(Peer.IsClient ? "a client" : "a replica")}");
        if ((header.Flags & FrameFlags.Compressed) == 0) return Deliver(header.Type, payload, wasCompressed: false);

        int raw = BinaryPrimitives.ReadInt32LittleEndian(payload);
        if (raw <= 0 || raw > _core.Options.FrameBytesMax) return Reject($"compressed frame expands to {raw} bytes, over the maximum {_core.Options.FrameBytesMax}");
        using var block = _core.Pool.RentBlock(raw);
        int decoded = LZ4Codec.Decode(payload[FrameHeader.RawLengthSize..], block.Span[..raw]);
        if (decoded != raw) return Reject($"compressed frame does not decode to its declared {raw} bytes");
        return Deliver(header.Type, block.Span[..raw], wasCompressed: true);
    }

    private bool Deliver(byte type, ReadOnlySpan<byte> payload, bool wasCompressed)
    {
        try
        {
            _core.Handler.OnFrame(this, new InboundFrame(type, payload, wasCompressed, _core.Pool));
        }
        catch (Exception e)
        {
            Close($"handler threw {e.GetType().Name}: {e.Message}", TransportLogLevel.Error);
            return false;
        }
        return Volatile.Read(ref _state) == StateEstablished;
    }

    private bool OnHello(ReadOnlySpan<byte> payload)
    {
        if (!HelloMessage.TryRead(payload, out var hello, out var error)) return Reject($"bad hello: {error}");
        var cluster = _core.Cluster;
        if (hello.ClusterId != cluster.ClusterId || hello.Epoch != cluster.Epoch)
            return Reject($"wrong cluster: peer is in {hello.ClusterId.ToShortString()} epoch {hello.Epoch}, we are in {cluster.ClusterId.ToShortString()} epoch {cluster.Epoch}");
        _remoteHello = hello;
        if (hello.Role == HelloMessage.RoleClient)
        {
            // Only an acceptor can meet a client; a client proves nothing, it just gets client frame types.
            if (IsInitiator) return Reject("responder claims to be a client");
            Peer = PeerIdentity.Client;
            SendHello();
            SendProof(HandshakeTranscript.SignerResponder);
            return Establish();
        }
        if (!cluster.TryGetReplica(hello.Id, out _)) return Reject($"unknown replica {hello.Id}");
        if (IsInitiator && _expectedPeer is { } expected && expected != hello.Id) return Reject($"expected replica {expected}, peer claims {hello.Id}");
        Peer = PeerIdentity.Replica(hello.Id);
        Volatile.Write(ref _state, StateAwaitProof);
        if (!IsInitiator)
        {
            SendHello();
            SendProof(HandshakeTranscript.SignerResponder);
        }
        return true;
    }

    private bool OnProof(ReadOnlySpan<byte> payload)
    {
        byte signer = IsInitiator ? HandshakeTranscript.SignerResponder : HandshakeTranscript.SignerInitiator;
        Span<byte> transcript = stackalloc byte[HandshakeTranscript.Size];
        WriteTranscript(transcript, signer);
        var key = _core.Cluster.Replica(Peer.Id).PublicKey;
        if (payload.Length != Ed25519PublicKey.SignatureSize || !key.Verify(transcript, payload))
            return Reject($"handshake proof from {Peer} does not verify");
        if (IsInitiator && !_core.Identity.IsClient) SendProof(HandshakeTranscript.SignerInitiator);
        return Establish();
    }

    private bool Establish()
    {
        int current = Volatile.Read(ref _state);
        // A concurrent close (timeout, dispose) wins: never deliver on a connection already closed.
        if (current == StateClosed || Interlocked.CompareExchange(ref _state, StateEstablished, current) != current) return false;
        _handshakeTimer?.Dispose();
        _core.Log(TransportLogLevel.Debug, $"connection {Id} ({Describe()}) authenticated");
        NotifyHandler(static (h, c, _) => h.OnConnected(c), null);
        _established.TrySetResult();
        return Volatile.Read(ref _state) == StateEstablished;
    }

    private void SendHello()
    {
        var identity = _core.Identity;
        var hello = new HelloMessage(identity.IsClient ? HelloMessage.RoleClient : HelloMessage.RoleReplica,
            _core.Cluster.ClusterId, _core.Cluster.Epoch, identity.Id ?? default, _localNonce);
        Span<byte> payload = stackalloc byte[HelloMessage.Size];
        hello.Write(payload);
        Enqueue(FrameHeader.HelloType, payload);
    }

    private void SendProof(byte signer)
    {
        Span<byte> transcript = stackalloc byte[HandshakeTranscript.Size];
        WriteTranscript(transcript, signer);
        Span<byte> signature = stackalloc byte[Ed25519PublicKey.SignatureSize];
        _core.Identity.Key!.Sign(transcript, signature);
        Enqueue(FrameHeader.ProofType, signature);
    }

    private void WriteTranscript(Span<byte> destination, byte signer)
    {
        var local = _core.Identity;
        byte localRole = local.IsClient ? HelloMessage.RoleClient : HelloMessage.RoleReplica;
        byte initiatorRole = IsInitiator ? localRole : _remoteHello.Role;
        NodeId localId = local.Id ?? default;
        NodeId initiator = IsInitiator ? localId : _remoteHello.Id;
        NodeId responder = IsInitiator ? _remoteHello.Id : localId;
        ReadOnlySpan<byte> initiatorNonce = IsInitiator ? _localNonce : _remoteHello.Nonce;
        ReadOnlySpan<byte> responderNonce = IsInitiator ? _remoteHello.Nonce : _localNonce;
        HandshakeTranscript.Write(destination, _core.Cluster.ClusterId, _core.Cluster.Epoch, initiatorRole, initiator, responder,
            initiatorNonce, responderNonce, signer);
    }
}
