using PostTrain.Pretrain.Corpus;

namespace PostTrain.Pretrain.Data;

/// <summary>
/// Reads a user's own pretraining text through <see cref="CorpusReader"/> (the reader <c>posttrain corpus prepare</c>
/// uses): <c>.txt</c> files hold one document per blank-line-separated block, <c>.jsonl</c> files one JSON object per
/// line with a non-empty <c>"text"</c> string (the layout of most open pretraining dumps, and of a prepared corpus).
/// Every problem is reported as <c>FILE:LINE: reason</c>.
/// </summary>
public static class TextDocuments
{
    /// <exception cref="InvalidDataException">A file is missing, has an unsupported extension, is not UTF-8, is malformed, or holds no documents.</exception>
    public static IReadOnlyList<string> Load(IEnumerable<string> paths)
    {
        ArgumentNullException.ThrowIfNull(paths);
        var reader = new CorpusReader();
        var documents = new List<string>();
        foreach (var path in paths)
        {
            var before = documents.Count;
            foreach (var doc in reader.Read(path))
            {
                if (doc.Text.Length == 0) throw new InvalidDataException($"{doc.Location}: text: is empty");
                documents.Add(doc.Text);
            }
            if (documents.Count == before) throw new InvalidDataException($"{path}:1: no documents in the file");
        }
        return documents;
    }
}
