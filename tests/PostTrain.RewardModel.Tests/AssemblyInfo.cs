// TorchSharp's RNG (manual_seed) is process-global: tests that seed then build a model must not interleave.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
