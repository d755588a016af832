using System.CommandLine;
using Chainspace.Client;
using Chainspace.Contracts;
using Chainspace.Core;
using Chainspace.Core.Cluster;
using Chainspace.Core.Crypto;
using Chainspace.Core.Model;
using Chainspace.Node;
using Chainspace.Node.Config;
using Chainspace.Storage.Objects;

// chainspace <command>: cluster set-up, wallets and CSCoin transfers, Dummy transactions, object lookups and node stats.
var clusterOption = new Option<FileInfo>("--cluster") { Description = "cluster file", Required = true };
var timeoutOption = new Option<double>("--timeout") { Description = "seconds to wait for a decision or answer", DefaultValueFactory = _ => 30 };
var receiptOption = new Option<FileInfo?>("--receipt") { Description = "collect the transaction's signed receipt (LOCALPREPARED proofs), verify it and save it to this file" };

var init = new Command("init-local", "write a cluster file and one key file per replica for K × n replicas on 127.0.0.1");
var dirOption = new Option<DirectoryInfo>("--dir") { Description = "output directory", Required = true };
var shardsOption = new Option<int>("--shards") { DefaultValueFactory = _ => 2 };
var replicasOption = new Option<int>("--replicas") { DefaultValueFactory = _ => 4 };
var portOption = new Option<int>("--base-port") { DefaultValueFactory = _ => 17000 };
var objectsOption = new Option<int>("--dummy-objects") { Description = "genesis Dummy tokens", DefaultValueFactory = _ => 100_000 };
init.Options.Add(dirOption);
init.Options.Add(shardsOption);
init.Options.Add(replicasOption);
init.Options.Add(portOption);
init.Options.Add(objectsOption);
var accountsOption = new Option<int>("--accounts") { Description = "genesis CSCoin accounts, each with a new owner key saved as wallet-<i>.json", DefaultValueFactory = _ => 0 };
var balanceOption = new Option<long>("--balance") { Description = "balance of each genesis account", DefaultValueFactory = _ => 1000 };
accountsOption.Validators.Add(r =>
{
    if (r.GetValueOrDefault<int>() is < 0 or > 10_000) r.AddError("--accounts: need 0..10000");
});
balanceOption.Validators.Add(r =>
{
    if (r.GetValueOrDefault<long>() < 0) r.AddError("--balance: must not be negative");
});
init.Options.Add(accountsOption);
init.Options.Add(balanceOption);
init.SetAction(p =>
{
    try
    {
        var dir = p.GetRequiredValue(dirOption);
        dir.Create();
        var owners = Enumerable.Range(0, p.GetValue(accountsOption)).Select(_ => Ed25519KeyPair.Generate()).ToArray();
        var genesis = new GenesisSpec
        {
            Label = "genesis",
            DummyObjects = p.GetValue(objectsOption),
            Accounts = owners.Select(o => new GenesisAccount(o.PublicKey, p.GetValue(balanceOption))).ToArray(),
        };
        var (file, keys) = ClusterFile.CreateLocal(p.GetValue(shardsOption), p.GetValue(replicasOption), p.GetValue(portOption), new NodeSettings(), genesis);
        file.Save(Path.Combine(dir.FullName, "cluster.json"));
        foreach (var (id, key) in keys) NodeKeyFile.Save(Path.Combine(dir.FullName, $"{id}.key"), id, key);
        var accounts = GenesisObjects.Accounts(genesis).ToArray();
        for (int i = 0; i < owners.Length; i++) Wallet.Create(owners[i], [accounts[i]]).Save(Path.Combine(dir.FullName, $"wallet-{i}.json"));
        Console.WriteLine($"wrote {Path.Combine(dir.FullName, "cluster.json")}, {keys.Count} key files and {owners.Length} wallets");
        return 0;
    }
    catch (Exception e) when (e is ConfigException or IOException or UnauthorizedAccessException)
    {
        Console.Error.WriteLine($"error: {e.Message}");
        return 2;
    }
});

var dummy = new Command("dummy", "spend genesis Dummy tokens (by index) in one transaction and wait for the decision");
var indexesOption = new Option<int[]>("--index") { Description = "genesis token indexes to spend (repeatable)", Required = true, AllowMultipleArgumentsPerToken = true };
dummy.Options.Add(clusterOption);
dummy.Options.Add(indexesOption);
dummy.Options.Add(timeoutOption);
dummy.Options.Add(receiptOption);
dummy.SetAction(async (p, token) =>
{
    if (!TryLoad(p.GetRequiredValue(clusterOption), out var file)) return 2;
    var indexes = p.GetRequiredValue(indexesOption);
    if (indexes.Length == 0 || indexes.Any(i => i < 0 || i >= file!.Genesis.DummyObjects))
    {
        Console.Error.WriteLine($"error: --index: each index must be in 0..{file!.Genesis.DummyObjects - 1}");
        return 2;
    }
    var tokens = GenesisObjects.DummyTokens(file!.Genesis).ToArray();
    var tx = new PreparedTransaction(Dummy.Spend(indexes.Select(i => tokens[i]).ToArray()), file.Cluster.ShardMap);
    return await SubmitAndReport(file, tx, p.GetValue(timeoutOption), p.GetValue(receiptOption), token);
});

var state = new Command("state", "look up an object's state (absent, active, locked, inactive) in its shard");
var idOption = new Option<string>("--id") { Description = "object id (hex)", Required = true };
state.Options.Add(clusterOption);
state.Options.Add(idOption);
state.Options.Add(timeoutOption);
state.SetAction(async (p, token) =>
{
    if (!TryLoad(p.GetRequiredValue(clusterOption), out var file)) return 2;
    Hash256 id;
    try
    {
        id = Hash256.Parse(p.GetRequiredValue(idOption));
    }
    catch (FormatException)
    {
        Console.Error.WriteLine("error: --id: not a 64-digit hex object id");
        return 2;
    }
    try
    {
        await using var client = await ChainspaceClient.ConnectAsync(file!, TimeSpan.FromSeconds(p.GetValue(timeoutOption)), cancellationToken: token);
        var s = await client.QueryObjectAsync(id, TimeSpan.FromSeconds(p.GetValue(timeoutOption)));
        Console.WriteLine($"{id}: {s.ToString().ToLowerInvariant()} (shard {file!.Cluster.ShardMap.ShardOf(id)})");
        return 0;
    }
    catch (Exception e) when (e is TimeoutException or InvalidOperationException)
    {
        Console.Error.WriteLine($"error: {e.Message}");
        return 1;
    }
});

var stats = new Command("stats", "print every replica's view, progress and counters");
stats.Options.Add(clusterOption);
stats.Options.Add(timeoutOption);
stats.SetAction(async (p, token) =>
{
    if (!TryLoad(p.GetRequiredValue(clusterOption), out var file)) return 2;
    try
    {
        await using var client = await ChainspaceClient.ConnectAsync(file!, TimeSpan.FromSeconds(p.GetValue(timeoutOption)), cancellationToken: token);
        int failures = 0;
        foreach (var r in file!.Cluster.AllReplicas)
        {
            try
            {
                var s = await client.QueryStatsAsync(r.Id, TimeSpan.FromSeconds(5));
                Console.WriteLine($"{r.Id}: view {s.View}{(s.ViewActive ? "" : " (changing)")}{(s.IsPrimary ? " primary" : "")} executed {s.LastExecuted} stable {s.StableSequence} committed {s.Committed} aborted {s.Aborted}");
            }
            catch (Exception e) when (e is TimeoutException or InvalidOperationException)
            {
                Console.WriteLine($"{r.Id}: unreachable ({e.Message})");
                failures++;
            }
        }
        return failures == 0 ? 0 : 1;
    }
    catch (TimeoutException e)
    {
        Console.Error.WriteLine($"error: {e.Message}");
        return 1;
    }
});

var walletOption = new Option<FileInfo>("--wallet") { Description = "wallet file (owner key and account objects)", Required = true };

var keygen = new Command("keygen", "create a wallet with a new Ed25519 owner key and print its public key");
var outOption = new Option<FileInfo>("--out") { Description = "wallet file to write (must not exist)", Required = true };
keygen.Options.Add(outOption);
keygen.SetAction(p =>
{
    var path = p.GetRequiredValue(outOption);
    if (path.Exists)
    {
        Console.Error.WriteLine($"error: --out: {path.FullName} exists; refusing to overwrite a key");
        return 2;
    }
    try
    {
        var wallet = Wallet.Create(Ed25519KeyPair.Generate());
        wallet.Save(path.FullName);
        Console.WriteLine(wallet.Owner.PublicKey);
        return 0;
    }
    catch (Exception e) when (e is IOException or UnauthorizedAccessException)
    {
        Console.Error.WriteLine($"error: --out: {e.Message}");
        return 2;
    }
});

var balance = new Command("balance", "look up every account object of a wallet and print the spendable balance");
balance.Options.Add(clusterOption);
balance.Options.Add(walletOption);
balance.Options.Add(timeoutOption);
balance.SetAction(async (p, token) =>
{
    if (!TryLoad(p.GetRequiredValue(clusterOption), out var file) || !TryLoadWallet(p.GetRequiredValue(walletOption), out var wallet)) return 2;
    try
    {
        var wait = TimeSpan.FromSeconds(p.GetValue(timeoutOption));
        await using var client = await ChainspaceClient.ConnectAsync(file!, wait, cancellationToken: token);
        long total = 0;
        foreach (var a in wallet!.Accounts)
        {
            var s = await client.QueryObjectAsync(a.Id, wait);
            long amount = CsCoin.ReadAccount(a.Body).Balance;
            if (s == ObjectState.Active) total += amount;
            Console.WriteLine($"{a.Id}: {amount} ({s.ToString().ToLowerInvariant()}, shard {file!.Cluster.ShardMap.ShardOf(a.Id)})");
        }
        Console.WriteLine($"spendable: {total}");
        return 0;
    }
    catch (Exception e) when (e is TimeoutException or InvalidOperationException)
    {
        Console.Error.WriteLine($"error: {e.Message}");
        return 1;
    }
});

var transfer = new Command("transfer", "pay an amount to a public key from one active account of a wallet (CSCoin createAccount), and update the wallets");
var toOption = new Option<string>("--to") { Description = "payee's public key (hex)", Required = true };
var amountOption = new Option<long>("--amount") { Description = "amount to pay", Required = true };
var payeeWalletOption = new Option<FileInfo?>("--payee-wallet") { Description = "payee's wallet file, to which the new account object is added" };
amountOption.Validators.Add(r =>
{
    if (r.GetValueOrDefault<long>() <= 0) r.AddError("--amount: must be positive");
});
transfer.Options.Add(clusterOption);
transfer.Options.Add(walletOption);
transfer.Options.Add(toOption);
transfer.Options.Add(amountOption);
transfer.Options.Add(payeeWalletOption);
transfer.Options.Add(timeoutOption);
transfer.Options.Add(receiptOption);
transfer.SetAction(async (p, token) =>
{
    if (!TryLoad(p.GetRequiredValue(clusterOption), out var file) || !TryLoadWallet(p.GetRequiredValue(walletOption), out var wallet)) return 2;
    Ed25519PublicKey? payee = null;
    try
    {
        Ed25519PublicKey.TryCreate(Convert.FromHexString(p.GetRequiredValue(toOption)), out payee);
    }
    catch (FormatException)
    {
    }
    if (payee is null)
    {
        Console.Error.WriteLine("error: --to: not a 64-digit hex Ed25519 public key");
        return 2;
    }
    Wallet? payeeWallet = null;
    var payeePath = p.GetValue(payeeWalletOption);
    if (payeePath is not null)
    {
        if (!TryLoadWallet(payeePath, out payeeWallet)) return 2;
        if (!payeeWallet!.Owner.PublicKey.Equals(payee))
        {
            Console.Error.WriteLine("error: --payee-wallet: its key is not the --to key");
            return 2;
        }
    }
    long amount = p.GetValue(amountOption);
    try
    {
        var wait = TimeSpan.FromSeconds(p.GetValue(timeoutOption));
        var receiptPath = p.GetValue(receiptOption);
        await using var client = await ChainspaceClient.ConnectAsync(file!, wait, cancellationToken: token, receipts: receiptPath is not null);
        client.Timeout = wait;
        ChainObject? source = null;
        foreach (var a in wallet!.Accounts.OrderByDescending(a => CsCoin.ReadAccount(a.Body).Balance))
        {
            if (CsCoin.ReadAccount(a.Body).Balance < amount) break;
            if (await client.QueryObjectAsync(a.Id, wait) == ObjectState.Active)
            {
                source = a;
                break;
            }
        }
        if (source is null)
        {
            Console.Error.WriteLine($"error: no active account in the wallet holds {amount}");
            return 3;
        }
        var tx = new Transaction(CsCoin.CreateAccount(source, wallet.Owner, payee, amount));
        var prepared = new PreparedTransaction(tx, file!.Cluster.ShardMap);
        var outcome = await client.SubmitAsync(prepared);
        Console.WriteLine($"{prepared.Id}: {outcome.ToString().ToLowerInvariant()} (shards {string.Join(",", prepared.ConcernedShards)})");
        if (receiptPath is not null && outcome is (Outcome.Committed or Outcome.Aborted) && !await ReportReceipt(client, file!, prepared, outcome, receiptPath, wait)) return 6;
        if (outcome != Outcome.Committed) return outcome switch { Outcome.Aborted => 3, Outcome.Rejected => 4, _ => 5 };
        var outputs = tx.Ids.OutputsByTrace[0];
        wallet.Remove(source.Id);
        wallet.Add(outputs[0]);
        wallet.Save(p.GetRequiredValue(walletOption).FullName);
        Console.WriteLine($"change {outputs[0].Id}: {CsCoin.ReadAccount(outputs[0].Body).Balance}");
        Console.WriteLine($"paid   {outputs[1].Id}: {amount} (creator {outputs[1].CreatorTraceId}, index {outputs[1].LocalIndex})");
        if (payeeWallet is not null)
        {
            payeeWallet.Add(outputs[1]);
            payeeWallet.Save(payeePath!.FullName);
        }
        return 0;
    }
    catch (Exception e) when (e is TimeoutException or InvalidOperationException or IOException)
    {
        Console.Error.WriteLine($"error: {e.Message}");
        return 1;
    }
});

var verify = new Command("verify-receipt", "check a receipt file against the cluster file's keys, offline");
var receiptFileOption = new Option<FileInfo>("--receipt") { Description = "receipt file", Required = true };
verify.Options.Add(clusterOption);
verify.Options.Add(receiptFileOption);
verify.SetAction(p =>
{
    if (!TryLoad(p.GetRequiredValue(clusterOption), out var file)) return 2;
    Receipt receipt;
    try
    {
        receipt = Receipt.Load(p.GetRequiredValue(receiptFileOption).FullName);
    }
    catch (FormatException e)
    {
        Console.Error.WriteLine($"error: {e.Message}");
        return 2;
    }
    var findings = new List<string>();
    bool valid = receipt.Verify(file!.Cluster, out string error, findings);
    foreach (var line in findings) Console.WriteLine(line);
    if (!valid)
    {
        Console.Error.WriteLine($"invalid receipt: {error}");
        return 1;
    }
    Console.WriteLine($"valid receipt: {receipt.TransactionId()} {(receipt.Decision == Chainspace.Sbac.Decision.Commit ? "committed" : "aborted")}");
    return 0;
});

var root = new RootCommand("Chainspace client") { init, keygen, balance, transfer, dummy, state, stats, verify };
return await root.Parse(args).InvokeAsync();

static bool TryLoad(FileInfo path, out ClusterFile? file)
{
    try
    {
        file = ClusterFile.Load(path.FullName);
        return true;
    }
    catch (ConfigException e)
    {
        Console.Error.WriteLine($"error: {e.Message}");
        file = null;
        return false;
    }
}

static bool TryLoadWallet(FileInfo path, out Wallet? wallet)
{
    try
    {
        wallet = Wallet.Load(path.FullName);
        return true;
    }
    catch (Exception e) when (e is FormatException or ArgumentException)
    {
        Console.Error.WriteLine($"error: {e.Message}");
        wallet = null;
        return false;
    }
}

static async Task<bool> ReportReceipt(ChainspaceClient client, ClusterFile file, PreparedTransaction tx, Outcome outcome, FileInfo path, TimeSpan wait)
{
    Receipt receipt;
    try
    {
        receipt = await client.WaitForReceiptAsync(tx, outcome, wait);
    }
    catch (TimeoutException e)
    {
        Console.Error.WriteLine($"error: {e.Message}");
        return false;
    }
    var findings = new List<string>();
    if (!receipt.Verify(file.Cluster, out string error, findings))
    {
        Console.Error.WriteLine($"error: the receipt assembled from the replicas' votes does not verify: {error}");
        return false;
    }
    foreach (var line in findings) Console.WriteLine($"receipt {line}");
    receipt.Save(path.FullName);
    Console.WriteLine($"receipt verified and saved to {path.FullName}");
    return true;
}

static async Task<int> SubmitAndReport(ClusterFile file, PreparedTransaction tx, double timeoutSeconds, FileInfo? receiptPath, CancellationToken token)
{
    try
    {
        var wait = TimeSpan.FromSeconds(timeoutSeconds);
        await using var client = await ChainspaceClient.ConnectAsync(file, wait, cancellationToken: token, receipts: receiptPath is not null);
        client.Timeout = wait;
        var outcome = await client.SubmitAsync(tx);
        Console.WriteLine($"{tx.Id}: {outcome.ToString().ToLowerInvariant()} (shards {string.Join(",", tx.ConcernedShards)})");
        if (receiptPath is not null && outcome is (Outcome.Committed or Outcome.Aborted) && !await ReportReceipt(client, file, tx, outcome, receiptPath, wait)) return 6;
        return outcome switch { Outcome.Committed => 0, Outcome.Aborted => 3, Outcome.Rejected => 4, _ => 5 };
    }
    catch (TimeoutException e)
    {
        Console.Error.WriteLine($"error: {e.Message}");
        return 1;
    }
}
