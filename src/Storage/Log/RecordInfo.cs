namespace Chainspace.Storage.Log;

/// <summary>The fields of a checked record header.</summary>
public readonly record struct RecordInfo(byte Type, int PayloadLength, int Size, ulong Sequence, long Vouch);
