using PostTrain.Model.Data;
using PostTrain.Model.Tokenization;

namespace PostTrain.Model.Tests.Data;

public sealed class PretrainCorpusTests
{
    private static readonly PretrainCorpusOptions Small = new() { Examples = 300, HeldOutExamples = 50, SamplingPrompts = 60, Seed = 7 };

    [Fact]
    public void Build_Sets_AreSizedAndDisjoint()
    {
        var corpus = PretrainCorpus.Build(Small);
        Assert.Equal((300, 50, 60), (corpus.TrainTasks.Count, corpus.HeldOutTasks.Count, corpus.SamplingTasks.Count));
        var prompts = corpus.TrainTasks.Concat(corpus.HeldOutTasks).Concat(corpus.SamplingTasks).Select(t => t.Prompt).ToList();
        Assert.Equal(prompts.Count, prompts.Distinct().Count());
        Assert.All(corpus.HeldOutTasks, t => Assert.Equal(TaskSplit.HeldOut, TaskGenerator.SplitOf(t.Prompt, Small.HeldOutFraction)));
    }

    [Fact]
    public void Build_SameSeed_SameCorpus()
    {
        Assert.Equal(PretrainCorpus.Build(Small).TrainTasks, PretrainCorpus.Build(Small).TrainTasks);
    }

    [Fact]
    public void Documents_TrainedTokenizer_DecodeToRenderedConversation()
    {
        var corpus = PretrainCorpus.Build(Small);
        var tokenizer = ByteBpeTokenizer.Train(corpus.TokenizerTrainingText(), 400);
        var template = new ChatTemplate(tokenizer);
        var docs = corpus.Documents(template);
        Assert.Equal(corpus.TrainTasks.Count, docs.Count);
        var texts = corpus.Texts().ToList();
        for (var i = 0; i < docs.Count; i++)
        {
            Assert.Equal(tokenizer.EosId, docs[i][^1]);
            Assert.Equal(texts[i] + SpecialTokens.EndOfText, tokenizer.Decode(docs[i]));
        }
        Assert.Contains(corpus.TrainTasks[0].Answer + SpecialTokens.EndOfTurn, texts[0]);
    }

    [Fact]
    public void SamplingPromptMessages_SystemPrompt_Prepended()
    {
        var corpus = PretrainCorpus.Build(Small with { SystemPrompt = "Answer with a number." });
        var prompt = corpus.SamplingPromptMessages()[0];
        Assert.Equal(ChatTemplate.SystemRole, prompt[0].Role);
        Assert.Equal(corpus.SamplingTasks[0].Prompt, prompt[1].Content);
    }
}
