namespace PostTrain.Sampling;

/// <summary>A prompt as token ids (already templated). <see cref="Id"/> must be unique in a run: it keys the random stream.</summary>
public sealed record TokenPrompt(string Id, int[] Ids);
