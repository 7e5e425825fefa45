namespace PostTrain.Model.Checkpoints;

/// <summary>How <see cref="Checkpoint.Save"/> writes the weights. The defaults keep PostTrain's own checkpoints as they were.</summary>
public sealed record CheckpointSaveOptions
{
    /// <summary>Floating type of the stored weights; integer and bool tensors keep theirs. Default F32 (what training runs in).</summary>
    public WeightsDtype Dtype { get; init; } = WeightsDtype.F32;

    /// <summary>
    /// Above this many bytes of tensor data the weights are split into <c>model-0000k-of-0000n.safetensors</c> shards
    /// listed in <c>model.safetensors.index.json</c>, as <c>save_pretrained</c> does; default 5 GB, HF's own default
    /// <c>max_shard_size</c>. A tensor larger than the limit gets a shard of its own.
    /// </summary>
    public long MaxShardBytes { get; init; } = 5_000_000_000;

    /// <summary>The config written to <c>config.json</c>; null = the model's own (a reward model writes its architecture here).</summary>
    public LlamaConfig? Config { get; init; }

    public static CheckpointSaveOptions Default { get; } = new();
}
