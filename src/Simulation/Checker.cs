using Chainspace.Core;

namespace Chainspace.Simulation;

/// <summary>
/// Cluster-wide invariants, checked as outputs appear and after every step: honest replicas never deliver
/// different batches (or execute different content) at one sequence; each delivers in order, so delivered
/// prefixes agree; stable checkpoint digests agree; views never decrease (within a run, and a restart never
/// falls below a view it voted in); no request executes twice; no honest checkpoint is outvoted.
/// </summary>
public sealed class Checker(Simulator sim)
{
    private readonly Dictionary<ulong, (Hash256 Digest, int Replica)> _delivered = new();
    private readonly Dictionary<ulong, (Hash256 Content, int Replica, string Requests)> _content = new();
    private readonly Dictionary<ulong, (Hash256 Digest, int Replica)> _stable = new();

    public int DeliveredSequences => _delivered.Count;

    public void OnDelivered(ReplicaHost host, ulong seq, in Hash256 digest)
    {
        if (!host.Honest) return;
        if (seq != host.LastDelivered + 1) sim.Fail($"r{host.Index} delivered {seq} after {host.LastDelivered}: gap in its delivered prefix");
        host.LastDelivered = seq;
        if (_delivered.TryGetValue(seq, out var first))
        {
            if (first.Digest != digest) sim.Fail($"agreement: r{first.Replica} delivered {first.Digest.ToShortString()} and r{host.Index} {digest.ToShortString()} at sequence {seq}");
        }
        else
        {
            _delivered.Add(seq, (digest, host.Index));
        }
    }

    public void OnBatchExecuted(ReplicaHost host, ulong seq, in Hash256 content)
    {
        if (!host.Honest) return;
        if (_content.TryGetValue(seq, out var first))
        {
            if (first.Content != content)
            {
                sim.Fail($"agreement: r{first.Replica} and r{host.Index} executed different requests at sequence {seq}: [{first.Requests}] vs [{Describe(host)}]");
            }
        }
        else
        {
            _content.Add(seq, (content, host.Index, Describe(host)));
        }
    }

    private static string Describe(ReplicaHost host) => string.Join(" ", host.App.CurrentBatch.Select(r => $"{r.Client}:{r.Number}"));

    public void OnCheckpointStable(ReplicaHost host, ulong seq, in Hash256 digest)
    {
        if (!host.Honest) return;
        if (_stable.TryGetValue(seq, out var first))
        {
            if (first.Digest != digest) sim.Fail($"checkpoint {seq}: r{first.Replica} has {first.Digest.ToShortString()}, r{host.Index} {digest.ToShortString()}");
        }
        else
        {
            _stable.Add(seq, (digest, host.Index));
        }
    }

    public void AfterStep(ReplicaHost host)
    {
        if (!host.Honest) return;
        var replica = host.Replica;
        if (host.App.Violation is not null) sim.Fail($"r{host.Index}: exactly-once: {host.App.Violation}");
        if (replica.StateDivergences > 0) sim.Fail($"r{host.Index}: its checkpoint digest was outvoted by 2f+1 replicas");
        if (replica.View < host.LastViewSeen) sim.Fail($"r{host.Index}: view went from {host.LastViewSeen} down to {replica.View}");
        host.LastViewSeen = replica.View;
    }

    public void AfterRestart(ReplicaHost host)
    {
        if (host.Honest && host.Replica.View < host.MaxViewSent)
        {
            sim.Fail($"r{host.Index} restarted in view {host.Replica.View} below view {host.MaxViewSent} it already voted in");
        }
        AfterStep(host);
    }

    public void AtEnd()
    {
        foreach (var host in sim.Hosts) AfterStep(host);
    }
}
