namespace PostTrain.Model.Training;

/// <summary>The shape of a <see cref="LearningRateSchedule"/> after warmup.</summary>
public enum LearningRateScheduleKind
{
    /// <summary>Peak rate held after warmup (SFT/DPO on small data often uses this).</summary>
    Constant,
    /// <summary>Cosine decay from the peak to <c>MinRatio × peak</c> at the last step (Loshchilov &amp; Hutter 2017, SGDR; LLaMA pre-training).</summary>
    Cosine,
    /// <summary>Warmup-stable-decay: peak held, then a short decay at the end (Hu et al. 2024, MiniCPM, arXiv:2404.06395).</summary>
    WarmupStableDecay,
}
