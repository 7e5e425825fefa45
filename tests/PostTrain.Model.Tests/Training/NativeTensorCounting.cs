namespace PostTrain.Model.Tests.Training;

/// <summary>
/// Tests that count live native tensors (a process-wide number) run in this collection, one at a time, and any test
/// class that trains joins it so its tensors do not change the count mid-measurement.
/// </summary>
[CollectionDefinition(nameof(NativeTensorCounting), DisableParallelization = true)]
public sealed class NativeTensorCounting;
