namespace Chainspace.Storage.Objects;

/// <summary>Store commands, as recorded in the log. Values are part of the record format.</summary>
public enum StoreCommandKind : byte
{
    Create = 1,
    Lock = 2,
    Unlock = 3,
    Consume = 4,
}
