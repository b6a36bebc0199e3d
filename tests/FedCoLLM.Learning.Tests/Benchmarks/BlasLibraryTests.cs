using FedCoLLM.Learning.Benchmarking;

namespace FedCoLLM.Learning.Tests.Benchmarks;

public class BlasLibraryTests
{
    const string Generic = "BLAS_INFO=generic, LAPACK_INFO=generic, USE_MKLDNN=ON";

    [Fact]
    public void Debian_torch_with_openblas_behind_the_generic_libblas_is_openblas()
    {
        string[] maps =
        [
            "/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3",
            "/usr/lib/x86_64-linux-gnu/openblas-pthread/liblapack.so.3",
            "/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblasp-r0.3.21.so",
        ];
        Assert.Equal(BlasKind.OpenBlas, BlasLibrary.Classify(maps, Generic));
        Assert.Null(BlasLibrary.RefusalFor(BlasKind.OpenBlas, maps));
    }

    [Fact]
    public void Debian_torch_without_libopenblas_is_refused_naming_the_fix()
    {
        string[] maps = ["/usr/lib/x86_64-linux-gnu/blas/libblas.so.3", "/usr/lib/x86_64-linux-gnu/lapack/liblapack.so.3"];
        var kind = BlasLibrary.Classify(maps, Generic);
        Assert.Equal(BlasKind.Reference, kind);
        var why = BlasLibrary.RefusalFor(kind, maps);
        Assert.NotNull(why);
        Assert.Contains("apt install libopenblas0-pthread", why);
        Assert.Contains("/usr/lib/x86_64-linux-gnu/blas/libblas.so.3", why);
    }

    [Fact]
    public void Pip_wheels_with_mkl_and_unknown_setups_are_told_apart()
    {
        Assert.Equal(BlasKind.Mkl, BlasLibrary.Classify(["/opt/venv/lib/python3.11/site-packages/torch/lib/libmkl_core.so.2"], "BLAS_INFO=mkl"));
        Assert.Equal(BlasKind.Mkl, BlasLibrary.Classify([], "BLAS_INFO=mkl, LAPACK_INFO=mkl")); // MKL linked statically
        Assert.Equal(BlasKind.Blis, BlasLibrary.Classify(["/usr/lib/x86_64-linux-gnu/blis-openmp/libblas.so.3"], Generic));
        Assert.Equal(BlasKind.Unknown, BlasLibrary.Classify([], Generic));
        Assert.Null(BlasLibrary.RefusalFor(BlasKind.Unknown, []));
    }
}
