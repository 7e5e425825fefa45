namespace PostTrain.Workflows.Metrics;

/// <summary>
/// The names of the metrics the stage activities record, in one place: the activities record them, the reports and
/// <c>iterate</c>'s round lines read them, and the studio gets the list from <c>GET /api/metrics/keys</c>. A name is
/// <c>stage/figure</c>; <see cref="All"/> lists them with their stage, for anything that groups or charts them.
/// A key ending in <c>/</c> is a prefix: the library's own figure names (or a kind, a candidate) follow it.
/// </summary>
public static class MetricKeys
{
    public static class Tasks
    {
        public const string HeldOut = "tasks/heldout", Prompts = "tasks/prompts", References = "tasks/references";
    }

    public static class Corpus
    {
        public const string Documents = "corpus/documents", Kept = "corpus/kept", Removed = "corpus/removed/", MegabytesPerSecond = "corpus/mb_per_s";
    }

    public static class Import
    {
        public const string Pairs = "import/pairs";
    }

    public static class Pretrain
    {
        public const string TrainLoss = "pretrain/train_loss", HeldOutLoss = "pretrain/heldout_loss", UnigramEntropy = "pretrain/unigram_entropy",
            TokensPerSecond = "pretrain/tokens_per_second", ExactMatch = "pretrain/exact_match";
    }

    public static class Annotate
    {
        public const string Pairs = "annotate/pairs", EditedPairs = "annotate/edited_pairs", SampleAccuracy = "annotate/sample_accuracy", References = "annotate/references";
    }

    public static class RewardModel
    {
        /// <summary>Followed by <c>RewardModelMetrics</c>' own names (heldout_accuracy, train_loss, …).</summary>
        public const string Prefix = "rm/";
        public const string HeldOutAccuracy = "rm/heldout_accuracy", HeldOutPairs = "rm/heldout_pairs", ReferenceAnswers = "rm/reference_answers", ReferenceLoss = "rm/reference_loss";
        public static string HeldOutAccuracyOf(string kind) => $"{HeldOutAccuracy}/{kind.ToLowerInvariant()}";
    }

    public static class Sample
    {
        public const string TokensPerSecond = "sample/tokens_per_second", Responses = "sample/responses", Slots = "sample/slots",
            KvBytesPerSlot = "sample/kv_bytes_per_slot", KvCacheBytes = "sample/kv_cache_bytes";
    }

    public static class Reject
    {
        public const string EmptyResponses = "reject/empty_responses", SftKept = "reject/sft_kept", PairsKept = "reject/pairs_kept", Duplicates = "reject/duplicates",
            MeanScore = "reject/mean_score", MeanBestScore = "reject/mean_best_score", SampleAccuracy = "reject/sample_accuracy";
    }

    public static class Sft
    {
        /// <summary>Followed by <c>SftResult.Metrics()</c>' own names (train/loss, eval/loss, …).</summary>
        public const string Prefix = "sft/";
        public const string TrainLoss = "sft/train/loss", SkippedNoData = "sft/skipped_no_data";
    }

    public static class Dpo
    {
        /// <summary>Followed by <c>DpoResult.Metrics</c>' own names (TRL's rewards/accuracies, rewards/margins, …).</summary>
        public const string Prefix = "dpo/";
        public const string Pairs = "dpo/pairs", SkippedNoPairs = "dpo/skipped_no_pairs", ReferenceForwardPasses = "dpo/reference_forward_passes";
    }

    public static class Evaluate
    {
        public const string MemoHits = "eval/memo_hits", BaselineExactMatch = "eval/baseline_exact_match", BaselineCorrect = "eval/baseline_correct", Prompts = "eval/prompts";
        public static string BaselineExactMatchOf(string kind) => $"{BaselineExactMatch}/{kind}";
        public static string WinRate(string candidate) => $"eval/{candidate}/win_rate";
        public static string ExactMatch(string candidate) => $"eval/{candidate}/exact_match";
        public static string ExactMatchOf(string candidate, string kind) => $"{ExactMatch(candidate)}/{kind}";
        public const string FewShots = "eval/fewshot_k", BaselineExactMatchFewShot = "eval/baseline_exact_match_fewshot";
        public static string ExactMatchFewShot(string candidate) => $"eval/{candidate}/exact_match_fewshot";
    }

    public static class Select
    {
        public const string WinRate = "select/win_rate", WinRateLow = "select/win_rate_low", WinRateHigh = "select/win_rate_high", Correct = "select/correct",
            Checked = "select/checked", ExactMatch = "select/exact_match", BaselineExactMatch = "select/baseline_exact_match", BaselineCorrect = "select/baseline_correct";
        /// <summary>Followed by the selected DPO candidate's own figures (rewards/accuracies, …).</summary>
        public const string DpoPrefix = "select/dpo/";
        public const string DpoRewardAccuracy = "select/dpo/rewards/accuracies", DpoRewardMargin = "select/dpo/rewards/margins";
        public static string ExactMatchOf(string kind) => $"{ExactMatch}/{kind}";
        public const string ExactMatchFewShot = "select/exact_match_fewshot", BaselineExactMatchFewShot = "select/baseline_exact_match_fewshot";
    }

    public static class Diagnostics
    {
        /// <summary>Followed by the block's index: the cosine between a block's input and output hidden states.</summary>
        public const string LayerCosine = "diag/layer_cosine/";
        public static string LayerCosineOf(int block) => LayerCosine + block.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    public static class Distill
    {
        public const string Kl = "distill/kl", InitialKl = "distill/initial_kl", TeacherForwardPasses = "distill/teacher_forward_passes";
    }

    public static class Scaling
    {
        /// <summary>Followed by the fitted law's parameters (e, a, alpha, b, beta) and rms_log_residual.</summary>
        public const string Prefix = "scaling/";
        public const string PredictedLoss = "scaling/predicted_loss", ActualLoss = "scaling/actual_loss", RelativeError = "scaling/relative_error";
    }

    /// <summary>Every fixed key and prefix above, with its stage (the nested class) and its C# name.</summary>
    public static IReadOnlyList<MetricKey> All { get; } = [.. typeof(MetricKeys).GetNestedTypes()
        .SelectMany(stage => stage.GetFields().Where(f => f.IsLiteral && f.FieldType == typeof(string))
            .Select(f => new MetricKey(stage.Name, f.Name, (string)f.GetRawConstantValue()!)))];
}
