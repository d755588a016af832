using Chainspace.Core;

namespace Chainspace.Storage.Merkle;

/// <summary>One link of a shard's checkpoint hash chain (paper §IV-A): checkpoint number, Merkle root of its block, head.</summary>
public readonly record struct CheckpointHead(ulong Number, Hash256 Root, Hash256 Head);
