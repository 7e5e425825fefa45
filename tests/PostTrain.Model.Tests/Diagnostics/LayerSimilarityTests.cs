using PostTrain.Model.Diagnostics;
using static TorchSharp.torch;

namespace PostTrain.Model.Tests.Diagnostics;

public sealed class LayerSimilarityTests
{
    [Fact]
    public void HiddenStates_LastNormed_EqualsTheModelsForward()
    {
        manual_seed(3);
        using var model = new LlamaForCausalLM(LlamaConfig.Preset("tiny"));
        model.eval();
        using var ids = randint(0, model.Config.VocabSize, [2, 9], dtype: ScalarType.Int64);
        var states = LayerSimilarity.HiddenStates(model, ids);
        Assert.Equal(model.Config.NumHiddenLayers + 1, states.Count);
        using var _ = no_grad();
        using var expected = model.model.forward(ids);
        using var actual = model.model.norm.forward(states[^1]);
        Assert.True(allclose(expected, actual, rtol: 1e-5, atol: 1e-5), "the replayed residual stream must be the model's");
    }

    [Fact]
    public void BlockCosines_BlockWithZeroedOutputProjections_IsIdentityCosineOne()
    {
        manual_seed(4);
        using var model = new LlamaForCausalLM(LlamaConfig.Preset("tiny"));
        model.eval();
        using (no_grad())
        {
            // Attention and MLP both write through o_proj / down_proj: zeroed, the block adds nothing to the residual.
            model.model.layers[0].self_attn.o_proj.weight!.zero_();
            model.model.layers[0].mlp.down_proj.weight!.zero_();
        }
        using var ids = randint(0, model.Config.VocabSize, [2, 7], dtype: ScalarType.Int64);

        var cosines = LayerSimilarity.BlockCosines(model, ids);

        Assert.Equal(model.Config.NumHiddenLayers, cosines.Length);
        Assert.Equal(1.0, cosines[0], 5);
        Assert.All(cosines, c => Assert.InRange(c, -1.0, 1.0 + 1e-6));
        Assert.True(cosines.Skip(1).Any(c => c < 0.9999), "an untouched random block changes its input");
    }

    [Fact]
    public void OnConversations_RaggedBatch_EqualsTokenWeightedMeanOfEachAlone()
    {
        manual_seed(5);
        var tokenizer = PostTrain.Model.Tokenization.ByteBpeTokenizer.Train(["What is 12 + 30? 42", "Sort 3, 1, 2. 1, 2, 3"], 300);
        using var model = new LlamaForCausalLM(LlamaConfig.Preset("tiny") with { VocabSize = tokenizer.VocabSize });
        model.eval();
        var template = new PostTrain.Model.Tokenization.ChatTemplate(tokenizer);
        (IReadOnlyList<PostTrain.Model.Tokenization.ChatMessage>, string) Conv(string q, string a) => ([PostTrain.Model.Tokenization.ChatMessage.User(q)], a);
        var shortOne = Conv("What is 12 + 30?", "42");
        var longOne = Conv("Sort these numbers from the smallest to the largest: 31, 7, 19, 2, 88, 40.", "2, 7, 19, 31, 40, 88");
        double Length((IReadOnlyList<PostTrain.Model.Tokenization.ChatMessage> P, string R) c) => template.EncodeExample(c.P, c.R).Length;

        var both = LayerSimilarity.OnConversations(model, template, [shortOne, longOne]);
        var a = LayerSimilarity.OnConversations(model, template, [shortOne]);
        var b = LayerSimilarity.OnConversations(model, template, [longOne]);

        Assert.Equal(model.Config.NumHiddenLayers, both.Length);
        Assert.True(Length(longOne) > Length(shortOne) + 5, "the batch must be ragged for the test to mean anything");
        for (var i = 0; i < both.Length; i++)
            Assert.Equal((a[i] * Length(shortOne) + b[i] * Length(longOne)) / (Length(shortOne) + Length(longOne)), both[i], 4);
    }
}
