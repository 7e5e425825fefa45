using System.Globalization;
using PostTrain.Model;
using PostTrain.Model.Data;
using PostTrain.Model.Tokenization;
using PostTrain.Workflows.Activities.Stages;
using RM = PostTrain.RewardModel.RewardModel;

namespace PostTrain.Workflows.Tests.Stages;

public sealed class RewardModelReferencesTests
{
    [Fact]
    public void LearnReferences_TrainsTheBackbone_TheLikelihoodTermPrefersTheReferenceAnswers()
    {
        var tasks = Enumerable.Range(0, 40).Select(i => (prompt: $"What is {i} + {i % 7}?", answer: (i + i % 7).ToString(CultureInfo.InvariantCulture))).ToList();
        var tokenizer = ByteBpeTokenizer.Train(tasks.Select(t => t.prompt + " " + t.answer), 300);
        TorchSharp.torch.manual_seed(11);
        var backbone = new LlamaForCausalLM(LlamaConfig.Preset("tiny"));
        // A zero head leaves r = log π(response | prompt): what the references should raise.
        using var rm = new RM(backbone, tokenizer, TorchSharp.torch.zeros(1, backbone.Config.HiddenSize), likelihoodWeight: 1);
        var references = tasks.Select(t => new SftExample([ChatMessage.User(t.prompt)], t.answer)).ToList();
        var items = tasks.Select(t => ((IReadOnlyList<ChatMessage>)[ChatMessage.User(t.prompt)], t.answer)).ToList();
        var before = rm.Score(items).Average();

        var result = PostTrain.Trainers.Sft.ReferenceAnswers.Learn(backbone, tokenizer, references, epochs: 4, learningRate: 3e-3, seed: 1);

        rm.eval();
        var after = rm.Score(items).Average();
        Assert.Equal(4 * 3, result.Steps);   // 40 answers, 16 a step
        Assert.True(after > before + 1, $"mean log π(reference) {before:F3} -> {after:F3}");
        Assert.True(result.LossHistory[^1] < result.LossHistory[0], string.Join(", ", result.LossHistory.Select(l => l.ToString("F3", CultureInfo.InvariantCulture))));
    }
}
