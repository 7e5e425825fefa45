using System.Text.Json;

namespace PostTrain.Model.Data;

/// <summary>One parsed JSONL line before type checks: fields kept as raw JSON so the validator can say what type it found.</summary>
internal sealed record RawPreferenceLine(PreferenceFormat Format, JsonElement? Prompt, JsonElement Chosen, JsonElement Rejected,
    JsonElement? Edited, JsonElement? ScoreChosen, JsonElement? ScoreRejected, JsonElement? Margin, JsonElement? Source);
