using System.Text.Json;
using System.Text.Json.Nodes;

namespace Chainspace.Client;

/// <summary>
/// Reading the CLI's small JSON files (wallets, receipts) strictly: one object, only known fields, and every
/// problem a <see cref="FormatException"/> that names the file and the field ("wallet w.json: privateKey: ...").
/// </summary>
internal static class JsonFile
{
    public static JsonObject ReadObject(string kind, string path, params string[] fields)
    {
        JsonObject root;
        try
        {
            root = JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new FormatException($"{kind} {path}: not a JSON object");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            throw new FormatException($"{kind} {path}: {e.Message}");
        }
        CheckFields(root, kind, path, "", fields);
        return root;
    }

    public static void CheckFields(JsonObject o, string kind, string path, string parent, params string[] fields)
    {
        foreach (var (name, _) in o)
        {
            if (Array.IndexOf(fields, name) < 0) throw new FormatException($"{kind} {path}: {parent}{name}: unknown field");
        }
    }

    public static string String(JsonObject o, string name, string kind, string path, string parent = "") =>
        o[name] is JsonValue v && v.GetValueKind() == JsonValueKind.String
            ? v.GetValue<string>()
            : throw new FormatException($"{kind} {path}: {parent}{name}: missing or not a string");

    public static byte[] Hex(JsonObject o, string name, string kind, string path, string parent = "")
    {
        string text = String(o, name, kind, path, parent);
        try
        {
            return Convert.FromHexString(text);
        }
        catch (FormatException)
        {
            throw new FormatException($"{kind} {path}: {parent}{name}: not hexadecimal");
        }
    }
}
