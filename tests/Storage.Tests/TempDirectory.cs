namespace Chainspace.Storage.Tests;

/// <summary>A fresh directory under the system temp path, removed on dispose.</summary>
public sealed class TempDirectory : IDisposable
{
    public TempDirectory(string tag = "t")
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "chainspace-storage-tests", tag + "-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
