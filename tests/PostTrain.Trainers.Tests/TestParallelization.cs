// TorchSharp's random generator (manual_seed) is process-global: test classes running in parallel would draw from
// each other's seeded streams, so determinism tests would fail at random. Run this assembly's tests one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
