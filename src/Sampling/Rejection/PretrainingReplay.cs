using System.Globalization;
using PostTrain.Model.Data;
using PostTrain.Model.Prompts;

namespace PostTrain.Sampling.Rejection;

/// <summary>
/// Conversations of the base's own pretraining corpus mixed into a round's SFT data. Rejection sampling keeps what the
/// policy already gets right, so a kind it rarely solves all but vanishes from SFT and is forgotten round by round;
/// InstructGPT mixes pretraining gradients into RL (PPO-ptx) against the same regression. The replayed answers are the
/// corpus's, which the base has trained on already: no new supervision, only less forgetting.
/// </summary>
public static class PretrainingReplay
{
    /// <summary>
    /// The replay of a run's task set: at most the corpus's size, and none without a built-in task set. A user's prompts
    /// come with a base pretrained on another corpus, which has nothing of ours to forget, so the default (on) leaves
    /// such runs as they were instead of refusing them.
    /// </summary>
    public static IReadOnlyList<SftExample> ForTaskSet(TaskSet? tasks, int count, int round)
    {
        if (count == 0 || tasks is not { IsBuiltIn: true }) return [];
        // The training conversations do not depend on the other sets' sizes, so the round's 21,504 sampling prompts
        // and the held-out set are not drawn again just to be dropped.
        var corpus = PretrainCorpus.Build(tasks.Options with { SamplingPrompts = 0, HeldOutExamples = 0 });
        return Draw(corpus, Math.Min(count, corpus.TrainTasks.Count), round);
    }

    /// <summary>
    /// <paramref name="count"/> distinct training conversations of <paramref name="corpus"/>, a fresh draw for each
    /// <paramref name="round"/> (the same for the same round), with provenance <c>selection = pretraining_replay</c>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">More conversations asked than the corpus has.</exception>
    public static IReadOnlyList<SftExample> Draw(PretrainCorpus corpus, int count, int round)
    {
        ArgumentNullException.ThrowIfNull(corpus);
        if (count < 0 || count > corpus.TrainTasks.Count)
            throw new ArgumentOutOfRangeException(nameof(count), count, $"pretraining replay: expected 0..{corpus.TrainTasks.Count} conversations (the corpus's size)");
        // Not HashCode.Combine: its seed is random per process, and a round's draw must be the same in every run.
        var rng = new Random(unchecked(corpus.Options.Seed * 7919 + round * 104_729 + 17));
        var order = Enumerable.Range(0, corpus.TrainTasks.Count).ToArray();
        rng.Shuffle(order);
        return order.Take(count).Select(i => corpus.TrainTasks[i]).Select(t => new SftExample(corpus.PromptFor(t), t.Answer)
        {
            Source = new Dictionary<string, string>
            {
                ["selection"] = "pretraining_replay",
                ["round"] = round.ToString(CultureInfo.InvariantCulture),
                ["prompt_id"] = t.Id,
            },
        }).ToList();
    }
}
