namespace PostTrain.Model.Checkpoints;

/// <summary>
/// The floating type a checkpoint's weights are written in. Training runs in float32; BF16 halves the files (the type
/// Llama 3 ships in) at 8 mantissa bits, F16 keeps 11 bits but overflows above 65504.
/// </summary>
public enum WeightsDtype
{
    F32,
    BF16,
    F16,
}
