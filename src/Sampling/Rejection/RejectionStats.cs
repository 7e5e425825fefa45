namespace PostTrain.Sampling.Rejection;

/// <summary>What rejection sampling kept and dropped.</summary>
/// <param name="Prompts">Prompts seen.</param>
/// <param name="Responses">Responses seen.</param>
/// <param name="Duplicates">Responses dropped as duplicates of another response to the same prompt.</param>
/// <param name="Unfinished">Responses dropped because they hit the token limit (<see cref="RejectionOptions.RequireStop"/>).</param>
/// <param name="BelowThreshold">Prompts whose best response scored under <see cref="RejectionOptions.MinScore"/>.</param>
/// <param name="NoCorrect">Verifiable prompts with no correct response under <see cref="CheckerMode.RequireCorrect"/>.</param>
/// <param name="SftKept">SFT examples kept (at most one per prompt).</param>
/// <param name="PairsKept">Preference pairs kept (at most one per prompt).</param>
/// <param name="MeanScore">Mean reward over scored responses (NaN if none); responses the RM skipped do not count.</param>
/// <param name="MeanBestScore">Mean over prompts of the kept best response's reward (NaN if none).</param>
public sealed record RejectionStats(int Prompts, int Responses, int Duplicates, int Unfinished, int BelowThreshold, int NoCorrect,
    int SftKept, int PairsKept, double MeanScore, double MeanBestScore);
