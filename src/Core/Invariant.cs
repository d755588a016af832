using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace Chainspace.Core;

/// <summary>
/// Always-on assertions for Consensus, Sbac and Storage (STYLE.md §3). A failed invariant is a bug in
/// our code, never bad peer input: it throws <see cref="InvariantViolationException"/>, which nothing
/// catches; the node logs, flushes and fails fast. Peer input is validated and rejected instead.
/// </summary>
public static class Invariant
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Check([DoesNotReturnIf(false)] bool condition, [CallerArgumentExpression(nameof(condition))] string? expression = null)
    {
        if (!condition) Fail(expression);
    }

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Fail(string? what) => throw new InvariantViolationException($"invariant violated: {what}");
}

public sealed class InvariantViolationException(string message) : Exception(message);
