using System.Globalization;

namespace Chainspace.Bench;

/// <summary>Parameter lists a run can narrow from the environment (BenchmarkDotNet's --filter selects methods, not parameters).</summary>
public static class BenchEnvironment
{
    public static T[] List<T>(string name, T[] defaults, Func<string, T> parse)
    {
        string? value = Environment.GetEnvironmentVariable(name);
        if (string.IsNullOrWhiteSpace(value)) return defaults;
        return value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(parse).ToArray();
    }

    public static int ParseInt(string value) => int.Parse(value, NumberStyles.Integer, CultureInfo.InvariantCulture);
}
