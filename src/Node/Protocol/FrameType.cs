using Chainspace.Transport;

namespace Chainspace.Node.Protocol;

/// <summary>
/// The node's frame types. The transport only knows which of them replicas and clients may send
/// (<see cref="PeerTypes"/>, <see cref="ClientTypes"/>); a frame of any other type closes the connection.
/// </summary>
public static class FrameType
{
    // replica → replica
    /// <summary>A PBFT message for a replica of the same shard.</summary>
    public const byte Consensus = 1;
    /// <summary>A signed S-BAC vote batch (<see cref="Sbac.VoteBatchMessage"/>) for a replica of a concerned shard.</summary>
    public const byte Votes = 2;
    /// <summary>An initiator's S-BAC command (Accept, Create, implicit Prepare) as an encoded request.</summary>
    public const byte Command = 3;
    /// <summary>Asks a replica for the body of a transaction it voted on: txId.</summary>
    public const byte FetchBody = 4;
    /// <summary>Answers <see cref="FetchBody"/>: txId ‖ body.</summary>
    public const byte Body = 5;

    // client → replica
    /// <summary>u64 client id: where this replica sends that client's replies and decisions.</summary>
    public const byte ClientHello = 16;
    /// <summary>An encoded request whose operation is an S-BAC command.</summary>
    public const byte ClientRequest = 17;
    /// <summary>A read-only question: <see cref="ClientMessages.WriteQuery"/>.</summary>
    public const byte Query = 18;

    // replica → client
    /// <summary>A PBFT reply whose result is a <see cref="Sbac.LedgerReply"/>.</summary>
    public const byte Reply = 32;
    /// <summary>The shard executed the decision of a transaction the client waits for: txId ‖ decision.</summary>
    public const byte Decision = 33;
    /// <summary>Answers <see cref="Query"/>.</summary>
    public const byte QueryResult = 34;
    /// <summary>A signed vote batch (<see cref="Sbac.VoteBatchMessage"/>) with the votes on this client's transactions, for its receipts (asked for in the hello).</summary>
    public const byte ReceiptVotes = 35;

    public static FrameTypeSet PeerTypes => FrameTypeSet.Of(Consensus, Votes, Command, FetchBody, Body, Reply, Decision, QueryResult, ReceiptVotes);
    public static FrameTypeSet ClientTypes => FrameTypeSet.Of(ClientHello, ClientRequest, Query);
}
