namespace PostTrain.Model.Tokenization;

/// <summary>
/// GPT-2's bytes-to-unicode map: every byte gets a printable character, so a byte-level vocabulary can be stored
/// as JSON strings that Hugging Face's ByteLevel pre-tokenizer and decoder read without translation.
/// </summary>
internal static class ByteLevelAlphabet
{
    /// <summary>Character standing for each byte.</summary>
    public static readonly char[] ByteToChar = Build();

    /// <summary>Byte for each mapped character; -1 where the character is not part of the alphabet.</summary>
    public static readonly int[] CharToByte = Invert(ByteToChar);

    public static string ToUnicode(ReadOnlySpan<byte> bytes)
    {
        var chars = new char[bytes.Length];
        for (var i = 0; i < bytes.Length; i++) chars[i] = ByteToChar[bytes[i]];
        return new string(chars);
    }

    /// <summary>Maps a vocab string back to bytes, or null when it holds a character outside the alphabet.</summary>
    public static byte[]? ToBytes(string token)
    {
        var bytes = new byte[token.Length];
        for (var i = 0; i < token.Length; i++)
        {
            var c = token[i];
            if (c >= CharToByte.Length || CharToByte[c] < 0) return null;
            bytes[i] = (byte)CharToByte[c];
        }
        return bytes;
    }

    private static char[] Build()
    {
        // Printable Latin-1 bytes map to themselves; the rest are shifted to 256+ (openai/gpt-2 encoder.py).
        var map = new char[256];
        var assigned = new bool[256];
        foreach (var (lo, hi) in new[] { ('!', '~'), ('¡', '¬'), ('®', 'ÿ') })
            for (int b = lo; b <= hi; b++) { map[b] = (char)b; assigned[b] = true; }
        var n = 0;
        for (var b = 0; b < 256; b++)
            if (!assigned[b]) map[b] = (char)(256 + n++);
        return map;
    }

    private static int[] Invert(char[] map)
    {
        var inv = new int[512];
        Array.Fill(inv, -1);
        for (var b = 0; b < 256; b++) inv[map[b]] = b;
        return inv;
    }
}
