using System.Buffers.Binary;
using System.Text;

namespace PostTrain.Engine.Store;

/// <summary>
/// Looks at a LiteDB 5 file before it is opened, because LiteDB itself silently re-initialises a file it finds
/// too short, and keeps writing into one cut at a page boundary. A data file is whole 8 KiB pages; its first page
/// starts with the LiteDB signature and records the id of the last page, so a cut file is shorter than it claims.
/// </summary>
public static class DatabaseCheck
{
    private const int PageSize = 8192;
    private const int SignatureOffset = 32;
    private const int LastPageIdOffset = 64;
    private static readonly byte[] Signature = Encoding.ASCII.GetBytes("** This is a LiteDB file **");

    /// <summary>Why the file at <paramref name="path"/> cannot be a whole database, or null (also when it does not exist yet).</summary>
    public static string? Problem(string path)
    {
        if (!File.Exists(path)) return null;
        var length = new FileInfo(path).Length;
        if (length == 0) return "the file is empty (0 bytes)";
        if (length < PageSize || length % PageSize != 0) return $"the file is {length} bytes, not a whole number of {PageSize}-byte pages (truncated)";
        var header = new byte[PageSize];
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite))
            stream.ReadExactly(header);
        if (!header.AsSpan(SignatureOffset, Signature.Length).SequenceEqual(Signature)) return "its first page does not carry the LiteDB signature";
        var lastPage = BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(LastPageIdOffset, 4));
        var needed = ((long)lastPage + 1) * PageSize;
        return length < needed ? $"the file is {length} bytes but its header counts {lastPage + 1} pages ({needed} bytes): truncated" : null;
    }
}
