// libtorch's random generator and intra-op thread count are process-wide: tests that train with
// dropout would draw from each other's generator if they ran concurrently, breaking the
// bit-reproducibility they assert. The training code itself runs one job at a time per process.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
