namespace PostTrain.Trainers.Dpo;

/// <summary>The preference loss, as TRL's <c>loss_type</c>. h = (log π(y_w) − log π(y_l)) − (log π_ref(y_w) − log π_ref(y_l)).</summary>
public enum DpoLossType
{
    /// <summary>−log σ(β h), Rafailov et al. 2023 eqn (7). With label smoothing ε it is conservative DPO (cDPO, Mitchell 2023):
    /// −(1 − ε) log σ(β h) − ε log σ(−β h).</summary>
    Sigmoid,

    /// <summary>(h − 1/(2β))², Azar et al. 2023 (IPO) eqn (17): regresses the margin to a finite target instead of pushing it to ∞.</summary>
    Ipo,

    /// <summary>relu(1 − β h), the hinge loss of SLiC (Zhao et al. 2023).</summary>
    Hinge,

    /// <summary>Robust DPO (Chowdhury et al. 2024, "Provably Robust DPO"): the unbiased loss under preference flips with rate ε,
    /// ((1 − ε)(−log σ(β h)) − ε(−log σ(−β h))) / (1 − 2ε).</summary>
    Robust,

    /// <summary>Conservative DPO (Mitchell 2023, "A note on DPO with noisy preferences"): the sigmoid loss against labels
    /// smoothed by ε, −(1 − ε) log σ(β h) − ε log σ(−β h). Needs ε in (0, 0.5); its optimum is a finite margin,
    /// β h = log((1 − ε)/ε), where plain DPO pushes h to ∞.</summary>
    Cdpo,
}
