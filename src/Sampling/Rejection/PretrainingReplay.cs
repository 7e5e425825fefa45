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
    /// <summary>The replay of a run's task set: none for 0; refused unless the set is built-in, since a user's prompts
    /// come with a base pretrained on another corpus.</summary>
    /// <exception cref="ArgumentException">A replay asked of a user's prompt set, or of no task set.</exception>
    public static IReadOnlyList<SftExample> ForTaskSet(TaskSet? tasks, int count, int round)
    {
        if (count == 0) return [];
        if (tasks is not { IsBuiltIn: true })
            throw new ArgumentException($"PretrainingReplay is {count}: it replays the built-in pretraining corpus, and this run's tasks are {(tasks is null ? "not given" : "the user's prompts")}; set it to 0", nameof(count));
        return Draw(PretrainCorpus.Build(tasks.Options), count, round);
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
