using System.Diagnostics;
using Chainspace.Client;
using Chainspace.Contracts;
using Chainspace.Core.Crypto;

namespace Chainspace.EndToEnd.Tests;

/// <summary>The <c>chainspace</c> CLI against a running cluster: wallets, a CSCoin payment, balances, and bad arguments.</summary>
[Collection("processes")]
public sealed class CliTests
{
    private static async Task<(int Exit, string Out, string Err)> RunCli(params string[] args)
    {
        string dir = AppContext.BaseDirectory;
        string apphost = Path.Combine(dir, OperatingSystem.IsWindows() ? "chainspace.exe" : "chainspace");
        var start = new ProcessStartInfo(apphost) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"chainspace {string.Join(' ', args)} did not finish within 90 s");
        }
        return (process.ExitCode, await stdout, await stderr);
    }

    [Fact]
    public async Task Keygen_Transfer_Balance_MovesCoinsBetweenWallets()
    {
        await using var c = await TestCluster.StartAsync(dummyObjects: 100);
        using var dir = new TempDir();
        string payer = Path.Combine(dir.Path, "payer.json"), payee = Path.Combine(dir.Path, "payee.json");
        Wallet.Create(c.Owners[0], [c.Accounts[0]]).Save(payer);

        var keygen = await RunCli("keygen", "--out", payee);
        Assert.True(keygen.Exit == 0, keygen.Err);
        string payeeKey = keygen.Out.Trim();
        Assert.Equal(Wallet.Load(payee).Owner.PublicKey.ToString(), payeeKey);
        Assert.NotEqual(0, (await RunCli("keygen", "--out", payee)).Exit);   // never overwrites a key

        var transfer = await RunCli("transfer", "--cluster", c.Local.ClusterPath, "--wallet", payer, "--to", payeeKey, "--amount", "250",
            "--payee-wallet", payee, "--timeout", "60");
        Assert.True(transfer.Exit == 0, $"{transfer.Out}\n{transfer.Err}");
        Assert.Contains(": committed", transfer.Out);
        Assert.Equal(750, CsCoin.ReadAccount(Assert.Single(Wallet.Load(payer).Accounts).Body).Balance);
        Assert.Equal(250, CsCoin.ReadAccount(Assert.Single(Wallet.Load(payee).Accounts).Body).Balance);

        // Balances are read from the cluster: the spent genesis account no longer counts.
        var balance = await RunCli("balance", "--cluster", c.Local.ClusterPath, "--wallet", payee, "--timeout", "60");
        Assert.True(balance.Exit == 0, balance.Err);
        Assert.Contains("spendable: 250", balance.Out);
        var payerBalance = await RunCli("balance", "--cluster", c.Local.ClusterPath, "--wallet", payer, "--timeout", "60");
        Assert.Contains("spendable: 750", payerBalance.Out);

        // More than the wallet holds: a clear error, nothing submitted, the wallet unchanged.
        var tooMuch = await RunCli("transfer", "--cluster", c.Local.ClusterPath, "--wallet", payee, "--to", payeeKey, "--amount", "1000", "--timeout", "60");
        Assert.Equal(3, tooMuch.Exit);
        Assert.Contains("no active account", tooMuch.Err);
        Assert.Equal(250, CsCoin.ReadAccount(Assert.Single(Wallet.Load(payee).Accounts).Body).Balance);
    }

    [Fact]
    public async Task Dummy_WithReceipt_ProofsFromBothShardsVerifyOffline_AndTamperingIsCaught()
    {
        await using var c = await TestCluster.StartAsync(dummyObjects: 100);
        using var dir = new TempDir();
        int first = 0;
        int second = Enumerable.Range(1, 99).First(i => c.Map.ShardOf(c.Tokens[i].Id) != c.Map.ShardOf(c.Tokens[first].Id));
        string receiptPath = Path.Combine(dir.Path, "receipt.json");

        var run = await RunCli("dummy", "--cluster", c.Local.ClusterPath, "--index", first.ToString(), "--index", second.ToString(),
            "--receipt", receiptPath, "--timeout", "60");
        Assert.True(run.Exit == 0, $"{run.Out}\n{run.Err}");
        Assert.Contains(": committed (shards 0,1)", run.Out);
        Assert.Contains("receipt shard 0: LOCALPREPARED(commit)", run.Out);
        Assert.Contains("receipt shard 1: LOCALPREPARED(commit)", run.Out);

        var verify = await RunCli("verify-receipt", "--cluster", c.Local.ClusterPath, "--receipt", receiptPath);
        Assert.True(verify.Exit == 0, verify.Err);
        Assert.Contains("valid receipt", verify.Out);

        // A flipped bit in a signature, a receipt claiming the other decision, and one with a shard's proof
        // removed: each is refused.
        var receipt = Receipt.Load(receiptPath);
        var flipped = (byte[])receipt.Proofs.Clone();
        flipped[^5] ^= 0x20;
        new Receipt(receipt.Transaction, receipt.Decision, flipped).Save(receiptPath);
        Assert.Equal(1, (await RunCli("verify-receipt", "--cluster", c.Local.ClusterPath, "--receipt", receiptPath)).Exit);
        new Receipt(receipt.Transaction, Chainspace.Sbac.Decision.Abort, receipt.Proofs).Save(receiptPath);
        Assert.Equal(1, (await RunCli("verify-receipt", "--cluster", c.Local.ClusterPath, "--receipt", receiptPath)).Exit);
        Assert.True(receipt.Verify(c.File.Cluster, out _));
        Assert.False(new Receipt(receipt.Transaction, receipt.Decision, [0]).Verify(c.File.Cluster, out string error));
        Assert.Contains("every concerned shard", error);
    }

    [Theory]
    [InlineData("--amount", "-5", "--amount")]
    [InlineData("--to", "zz", "--to")]
    public async Task Transfer_BadArguments_ClearErrorAndNonZeroExit(string option, string value, string named)
    {
        using var dir = new TempDir();
        string wallet = Path.Combine(dir.Path, "w.json");
        Wallet.Create(Ed25519KeyPair.Generate()).Save(wallet);
        string cluster = Path.Combine(dir.Path, "cluster.json");
        Chainspace.Node.Config.ClusterFile.CreateLocal(1, 4, 20000, new(), new() { Label = "g" }).File.Save(cluster);
        var args = new List<string> { "transfer", "--cluster", cluster, "--wallet", wallet, "--to", new string('a', 64), "--amount", "5" };
        int at = args.IndexOf(option);
        args[at + 1] = value;
        var result = await RunCli([.. args]);
        Assert.NotEqual(0, result.Exit);
        Assert.Contains(named, result.Err);
    }

    private sealed class TempDir : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("chainspace-cli-").FullName;
        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}

public sealed class WalletTests
{
    [Fact]
    public void SaveLoad_RoundTrips_KeyAndAccounts()
    {
        var owner = Ed25519KeyPair.Generate();
        var account = Chainspace.Core.Model.Genesis.Object("w", 3, CsCoin.Account(owner.PublicKey, 42));
        string path = System.IO.Path.GetTempFileName();
        try
        {
            Wallet.Create(owner, [account]).Save(path);
            var loaded = Wallet.Load(path);
            Assert.Equal(owner.PublicKey, loaded.Owner.PublicKey);
            Assert.Equal(account.Id, Assert.Single(loaded.Accounts).Id);
            Assert.Throws<ArgumentException>(() => loaded.Add(Chainspace.Core.Model.Genesis.Object("w", 4, CsCoin.Account(Ed25519KeyPair.Generate().PublicKey, 1))));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData("{", "wallet")]
    [InlineData("{\"privateKey\":\"zz\"}", "privateKey: not hexadecimal")]
    [InlineData("{\"privateKey\":\"00\"}", "privateKey: expected 32 bytes")]
    [InlineData("{\"privateKey\":\"0000000000000000000000000000000000000000000000000000000000000000\",\"extra\":1}", "extra: unknown field")]
    [InlineData("{\"privateKey\":\"0000000000000000000000000000000000000000000000000000000000000000\",\"accounts\":[{\"creator\":\"00\",\"index\":0,\"balance\":1}]}", "accounts[0].creator")]
    [InlineData("{\"privateKey\":\"0000000000000000000000000000000000000000000000000000000000000000\",\"accounts\":[{\"creator\":\"0000000000000000000000000000000000000000000000000000000000000000\",\"index\":-1,\"balance\":1}]}", "accounts[0].index")]
    [InlineData("{\"privateKey\":\"0000000000000000000000000000000000000000000000000000000000000000\",\"publicKey\":\"00\"}", "publicKey: does not match")]
    public void Load_BadFile_NamesTheField(string json, string expected)
    {
        string path = System.IO.Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, json);
            var e = Assert.Throws<FormatException>(() => Wallet.Load(path));
            Assert.Contains(expected, e.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
