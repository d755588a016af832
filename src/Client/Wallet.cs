using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Chainspace.Contracts;
using Chainspace.Core;
using Chainspace.Core.Crypto;
using Chainspace.Core.Model;

namespace Chainspace.Client;

/// <summary>
/// A CSCoin wallet file: one owner key and the account objects it owns, each named by the trace that created
/// it and its index there (the object id follows from those and the body, which is the owner key and the
/// balance). JSON, readable by its owner only:
/// <code>{"privateKey": "hex", "accounts": [{"creator": "hex", "index": 0, "balance": 1000}]}</code>
/// Account objects are spent whole (CSCoin is UTXO-shaped), so after a transfer the wallet swaps the spent
/// object for its change and the payee's wallet gains the new object.
/// </summary>
public sealed class Wallet
{
    private readonly List<ChainObject> _accounts = new();

    private Wallet(Ed25519KeyPair owner) => Owner = owner;

    public Ed25519KeyPair Owner { get; }
    public IReadOnlyList<ChainObject> Accounts => _accounts;

    public static Wallet Create(Ed25519KeyPair owner, IEnumerable<ChainObject>? accounts = null)
    {
        var wallet = new Wallet(owner);
        foreach (var a in accounts ?? []) wallet.Add(a);
        return wallet;
    }

    /// <summary>Adds an account object; it must be a CSCoin account owned by this wallet's key.</summary>
    public void Add(ChainObject account)
    {
        var (owner, _) = CsCoin.ReadAccount(account.Body);
        if (!owner.AsSpan().SequenceEqual(Owner.PublicKey.Bytes)) throw new ArgumentException("the account belongs to another key", nameof(account));
        if (!_accounts.Any(a => a.Id == account.Id)) _accounts.Add(account);
    }

    public bool Remove(in Hash256 id)
    {
        var target = id;
        return _accounts.RemoveAll(a => a.Id == target) > 0;
    }

    public void Save(string path)
    {
        var accounts = new JsonArray();
        foreach (var a in _accounts)
        {
            accounts.Add(new JsonObject
            {
                ["creator"] = a.CreatorTraceId.ToString(),
                ["index"] = a.LocalIndex,
                ["balance"] = CsCoin.ReadAccount(a.Body).Balance,
            });
        }
        var json = new JsonObject
        {
            ["publicKey"] = Owner.PublicKey.ToString(),
            ["privateKey"] = Convert.ToHexStringLower(Owner.ExportPrivateKey()),
            ["accounts"] = accounts,
        };
        string tmp = path + ".tmp";
        File.WriteAllText(tmp, json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(tmp, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.Move(tmp, path, overwrite: true);
    }

    /// <summary>Loads a wallet file; every problem is a <see cref="FormatException"/> naming the file and field.</summary>
    public static Wallet Load(string path)
    {
        var root = JsonFile.ReadObject("wallet", path, "publicKey", "privateKey", "accounts");
        byte[] seed = JsonFile.Hex(root, "privateKey", "wallet", path);
        if (seed.Length != Ed25519KeyPair.PrivateKeySize) throw new FormatException($"wallet {path}: privateKey: expected {Ed25519KeyPair.PrivateKeySize} bytes, got {seed.Length}");
        var owner = Ed25519KeyPair.FromPrivateKey(seed);
        if (root["publicKey"] is { } listed && listed.GetValueKind() == JsonValueKind.String && listed.GetValue<string>() != owner.PublicKey.ToString())
            throw new FormatException($"wallet {path}: publicKey: does not match privateKey");
        var wallet = new Wallet(owner);
        if (root["accounts"] is null) return wallet;
        if (root["accounts"] is not JsonArray accounts) throw new FormatException($"wallet {path}: accounts: not an array");
        for (int i = 0; i < accounts.Count; i++)
        {
            string field = $"accounts[{i}]";
            if (accounts[i] is not JsonObject a) throw new FormatException($"wallet {path}: {field}: not an object");
            JsonFile.CheckFields(a, "wallet", path, field + ".", "creator", "index", "balance");
            byte[] creator = JsonFile.Hex(a, "creator", "wallet", path, field + ".");
            if (creator.Length != Hash256.Size) throw new FormatException($"wallet {path}: {field}.creator: expected {Hash256.Size} bytes");
            ulong index = Number(a, "index", path, field);
            ulong balance = Number(a, "balance", path, field);
            if (balance > long.MaxValue) throw new FormatException($"wallet {path}: {field}.balance: too large");
            wallet._accounts.Add(new ChainObject(new Hash256(creator), index, CsCoin.Account(owner.PublicKey, (long)balance)));
        }
        return wallet;
    }

    private static ulong Number(JsonObject o, string name, string path, string field)
    {
        if (o[name] is not JsonValue v || v.GetValueKind() != JsonValueKind.Number || !ulong.TryParse(v.ToJsonString(), NumberStyles.None, CultureInfo.InvariantCulture, out ulong n))
            throw new FormatException($"wallet {path}: {field}.{name}: missing or not a non-negative integer");
        return n;
    }
}
