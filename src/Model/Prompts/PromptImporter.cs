using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using PostTrain.Model.Checkpoints;
using PostTrain.Model.Data;
using PostTrain.Model.Tokenization;

namespace PostTrain.Model.Prompts;

/// <summary>
/// Imports a prompt JSONL file all-or-nothing into a prompts dataset (<see cref="PromptDataset"/>), streaming, so memory
/// does not grow with the file. Layouts recognised as they are published:
/// <list type="bullet">
/// <item><c>{"prompt": "…"}</c> or TRL prompt-only <c>{"prompt": [{"role": "user", "content": "…"}]}</c>, optional <c>answer</c>;</item>
/// <item><c>{"messages": [...]}</c>, optional <c>answer</c>; a closing assistant turn is the reference answer;</item>
/// <item>GSM8K <c>{"question", "answer": "… #### 72"}</c>; MATH <c>{"problem", "solution": "… \boxed{…}"}</c> (an <c>answer</c> field wins, as in MATH-500);</item>
/// <item>multiple choice <c>{"question", "choices": [...], "answer": 2 | "C"}</c> (MMLU) or <c>{"question", "options": ["A)…"], "correct": "C"}</c> (AQuA): the choices are lettered into the prompt.</item>
/// </list>
/// Every row's split is drawn by prompt hash (<see cref="PromptDataset.HeldOutFraction"/>) and stored with it.
/// </summary>
public static class PromptImporter
{
    /// <summary>Errors kept for printing; the rest are only counted (a file of a million bad lines prints 20).</summary>
    public const int MaxReportedErrors = 20;

    private const string Letters = "ABCDE";

    /// <summary>Checks <paramref name="path"/> and, only when every line is good, writes the dataset to <paramref name="output"/> (temp then rename).</summary>
    public static PromptImportResult Import(string path, string output)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(output);
        var errors = new List<ImportError>();
        var errorCount = 0;
        int rows = 0, heldOut = 0, duplicates = 0, withAnswer = 0;
        var labels = new SortedDictionary<string, int>(StringComparer.Ordinal);
        void Fail(ImportError e)
        {
            errorCount++;
            if (errors.Count < MaxReportedErrors) errors.Add(e);
        }
        if (!File.Exists(path))
        {
            Fail(new ImportError(path, 0, "file", "does not exist"));
            return new PromptImportResult(0, 0, 0, 0, labels, errors, errorCount);
        }
        // Prompt hashes seen so far: 16 bytes a row, so a million rows cost 16 MB, not the file.
        var seen = new HashSet<UInt128>();
        try
        {
            AtomicFile.Write(output, stream =>
            {
                using var writer = new StreamWriter(stream, new UTF8Encoding(false), 1 << 16, leaveOpen: true);
                foreach (var (line, text, lineError) in JsonlLines.Read(path))
                {
                    if (lineError is not null) { Fail(lineError); continue; }
                    using var doc = JsonDocument.Parse(text!);
                    var row = Row(doc.RootElement, out var field, out var reason);
                    if (row is null) { Fail(new ImportError(path, line, field!, reason!)); continue; }
                    var hash = SHA256.HashData(Encoding.UTF8.GetBytes(row.Value.Key));
                    if (!seen.Add(BitConverter.ToUInt128(hash, 0))) { duplicates++; continue; }
                    if (errorCount > 0) continue;
                    var split = TaskGenerator.SplitOf(row.Value.Key, PromptDataset.HeldOutFraction);
                    var id = $"{row.Value.Label}-{Convert.ToHexStringLower(hash, 0, 6)}";
                    writer.Write(PromptDataset.Serialize(new PromptRow(id, row.Value.Label, row.Value.Prompt, row.Value.Answer, row.Value.Messages, split, line)));
                    writer.Write('\n');
                    rows++;
                    if (split == TaskSplit.HeldOut) heldOut++;
                    if (row.Value.Answer.Length > 0) withAnswer++;
                    labels[row.Value.Label] = labels.GetValueOrDefault(row.Value.Label) + 1;
                }
                if (errorCount == 0 && rows == 0) Fail(new ImportError(path, 0, "file", "no prompts; expected JSONL rows such as {\"prompt\": \"...\"}"));
                if (errorCount > 0) throw new AbortImport();
                writer.Flush();
            });
        }
        catch (AbortImport)
        {
            return new PromptImportResult(0, 0, duplicates, 0, labels, errors, errorCount);
        }
        return new PromptImportResult(rows, heldOut, duplicates, withAnswer, labels, errors, errorCount);
    }

    private sealed class AbortImport : Exception;

    private readonly record struct Parsed(string Label, string Prompt, string Answer, IReadOnlyList<ChatMessage>? Messages)
    {
        /// <summary>What the split and the duplicate check hash: the text for one user turn, else the whole conversation.</summary>
        public string Key => Messages is null ? Prompt : string.Join("\n", Messages.Select(m => $"{m.Role}: {m.Content}"));
    }

    private static Parsed? Row(JsonElement root, out string? field, out string? reason)
    {
        field = reason = null;
        if (root.ValueKind != JsonValueKind.Object) return Bad("$", $"expected a JSON object, found {root.ValueKind.ToString().ToLowerInvariant()}", out field, out reason);
        string? answer = null;
        if (root.TryGetProperty("answer", out var a) && !Scalar(a, "answer", out answer, out field, out reason)) return null;

        if (root.TryGetProperty("messages", out var m) || (root.TryGetProperty("prompt", out m) && m.ValueKind == JsonValueKind.Array))
        {
            var name = root.TryGetProperty("messages", out _) ? "messages" : "prompt";
            var messages = Messages(m, name, out field, out reason);
            if (messages is null) return null;
            if (messages[^1].Role == ChatTemplate.AssistantRole)
            {
                if (messages.Count == 1) return Bad($"{name}[0].role", "the conversation has no user turn", out field, out reason);
                answer ??= messages[^1].Content;
                messages = messages.Take(messages.Count - 1).ToList();
            }
            if (messages[^1].Role != ChatTemplate.UserRole) return Bad($"{name}[{messages.Count - 1}].role", $"is '{messages[^1].Role}'; the prompt must end with a user turn", out field, out reason);
            var one = messages.Count == 1;
            return new Parsed(name == "messages" ? "messages" : "prompt", messages[^1].Content, answer ?? "", one ? null : messages);
        }
        if (root.TryGetProperty("prompt", out var p))
            return Text(p, "prompt", out var prompt, out field, out reason) ? new Parsed("prompt", prompt!, answer ?? "", null) : null;
        if (root.TryGetProperty("problem", out var problem))
        {
            if (!Text(problem, "problem", out var text, out field, out reason)) return null;
            if (answer is null && root.TryGetProperty("solution", out var s) && !Scalar(s, "solution", out answer, out field, out reason)) return null;
            return new Parsed("math", text!, answer ?? "", null);
        }
        if (root.TryGetProperty("question", out var q))
        {
            if (!Text(q, "question", out var question, out field, out reason)) return null;
            if (root.TryGetProperty("choices", out var choices) || root.TryGetProperty("options", out choices))
                return Choice(root, question!, choices, out field, out reason);
            var label = answer?.Contains("####", StringComparison.Ordinal) == true ? "gsm8k" : "question";
            return new Parsed(label, question!, answer ?? "", null);
        }
        return Bad("$", "no prompt: expected one of prompt, messages, question (GSM8K, multiple choice), problem (MATH)", out field, out reason);
    }

    private static Parsed? Choice(JsonElement root, string question, JsonElement choices, out string? field, out string? reason)
    {
        field = reason = null;
        var name = root.TryGetProperty("choices", out _) ? "choices" : "options";
        if (choices.ValueKind != JsonValueKind.Array || choices.GetArrayLength() is < 2 or > 5)
            return Bad(name, "expected an array of 2 to 5 choices", out field, out reason);
        var lines = new List<string>();
        var i = 0;
        foreach (var c in choices.EnumerateArray())
        {
            if (!Text(c, $"{name}[{i}]", out var choice, out field, out reason)) return null;
            // AQuA's options carry their letter already ("A)21").
            lines.Add(choice!.Length > 1 && choice[0] == Letters[i] && choice[1] is ')' or '.' ? choice : $"{Letters[i]}. {choice}");
            i++;
        }
        string? letter = null;
        var key = root.TryGetProperty("answer", out var a) ? "answer" : root.TryGetProperty("correct", out a) ? "correct" : null;
        if (key is not null)
        {
            if (a.ValueKind == JsonValueKind.Number)
            {
                if (!a.TryGetInt32(out var index) || index < 0 || index >= lines.Count)
                    return Bad(key, $"is {a.GetRawText()}; expected a choice index 0..{lines.Count - 1}", out field, out reason);
                letter = Letters[index].ToString();
            }
            else if (a.ValueKind == JsonValueKind.String && ChoiceVerifier.Letter(a.GetString()!) is { } l && Letters.IndexOf(l) < lines.Count) letter = l.ToString();
            else return Bad(key, $"is {a.GetRawText()}; expected a letter A..{Letters[lines.Count - 1]} or an index", out field, out reason);
        }
        return new Parsed("choice", question + "\n" + string.Join("\n", lines), letter ?? "", null);
    }

    private static List<ChatMessage>? Messages(JsonElement m, string name, out string? field, out string? reason)
    {
        field = reason = null;
        if (m.ValueKind != JsonValueKind.Array || m.GetArrayLength() == 0)
        {
            Bad(name, "expected a non-empty array of {\"role\", \"content\"} turns", out field, out reason);
            return null;
        }
        var list = new List<ChatMessage>();
        var i = 0;
        foreach (var turn in m.EnumerateArray())
        {
            var at = $"{name}[{i++}]";
            if (turn.ValueKind != JsonValueKind.Object) { Bad(at, "expected an object with role and content", out field, out reason); return null; }
            if (!turn.TryGetProperty("role", out var r) || r.ValueKind != JsonValueKind.String || !ChatTemplate.Roles.Contains(r.GetString()!))
            {
                Bad($"{at}.role", $"expected one of {string.Join(", ", ChatTemplate.Roles)}", out field, out reason);
                return null;
            }
            if (!turn.TryGetProperty("content", out var c) || !Text(c, $"{at}.content", out var content, out field, out reason))
            {
                if (field is null) Bad($"{at}.content", "missing", out field, out reason);
                return null;
            }
            list.Add(new ChatMessage(r.GetString()!, content!));
        }
        return list;
    }

    private static bool Text(JsonElement e, string name, out string? text, out string? field, out string? reason)
    {
        text = null;
        field = reason = null;
        if (e.ValueKind != JsonValueKind.String) { Bad(name, $"expected a string, found {e.ValueKind.ToString().ToLowerInvariant()}", out field, out reason); return false; }
        text = e.GetString()!;
        if (string.IsNullOrWhiteSpace(text)) { Bad(name, "is empty", out field, out reason); return false; }
        return true;
    }

    /// <summary>A reference answer: a string, or a number kept as written ("72", "0.5").</summary>
    private static bool Scalar(JsonElement e, string name, out string? text, out string? field, out string? reason)
    {
        field = reason = null;
        text = e.ValueKind switch
        {
            JsonValueKind.String => e.GetString(),
            JsonValueKind.Number => e.GetRawText(),
            _ => null,
        };
        if (text is null) Bad(name, $"expected a string or a number, found {e.ValueKind.ToString().ToLowerInvariant()}", out field, out reason);
        return text is not null;
    }

    private static Parsed? Bad(string name, string why, out string? field, out string? reason)
    {
        field = name;
        reason = why;
        return null;
    }
}
