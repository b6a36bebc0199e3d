namespace FedCoLLM.Learning.Benchmarking;

/// <summary>Which BLAS a PyTorch process multiplies matrices with.</summary>
public enum BlasKind { Unknown, OpenBlas, Mkl, Blis, Reference }

/// <summary>
/// Tells the BLAS a baseline PyTorch loaded from the shared libraries mapped into its process (/proc/self/maps after
/// a matmul) and <c>torch.__config__.show()</c>. Debian's python3-torch is built against the generic
/// <c>libblas.so.3</c>, which resolves through update-alternatives to OpenBLAS when <c>libopenblas0-pthread</c> is
/// installed and to the Netlib reference BLAS (<c>/usr/lib/x86_64-linux-gnu/blas/libblas.so.3</c>) otherwise —
/// 10–20× slower, so a ratio against it says nothing about our speed.
/// </summary>
public static class BlasLibrary
{
    public const string Fix = "apt install libopenblas0-pthread";

    public static BlasKind Classify(IEnumerable<string> mappedLibraries, string? torchConfig)
    {
        var names = mappedLibraries.Select(p => p.Trim()).Where(p => p.Length > 0).ToList();
        bool Has(Func<string, bool> test) => names.Any(test);
        static string File(string path) => Path.GetFileName(path);
        if (Has(p => File(p).StartsWith("libopenblas", StringComparison.Ordinal) || p.Contains("/openblas", StringComparison.Ordinal)))
            return BlasKind.OpenBlas;
        if (Has(p => File(p).StartsWith("libmkl", StringComparison.Ordinal)) || torchConfig?.Contains("BLAS_INFO=mkl", StringComparison.Ordinal) == true)
            return BlasKind.Mkl;
        if (Has(p => File(p).StartsWith("libblis", StringComparison.Ordinal) || p.Contains("/blis", StringComparison.Ordinal)))
            return BlasKind.Blis;
        // The generic libblas.so.3 with no optimised library behind it: Netlib's reference implementation.
        if (Has(p => File(p).StartsWith("libblas.so", StringComparison.Ordinal)))
            return BlasKind.Reference;
        return BlasKind.Unknown;
    }

    /// <summary>Null when a ratio against <paramref name="kind"/> is fair; else why not and how to fix it.</summary>
    public static string? RefusalFor(BlasKind kind, IEnumerable<string> mappedLibraries) => kind switch
    {
        BlasKind.Reference => $"PyTorch multiplies with the reference BLAS ({string.Join(", ", mappedLibraries.Where(p => p.Contains("blas", StringComparison.Ordinal)).Distinct())}), "
                              + $"which is 10–20× slower than an optimised one; no ratio is reported against it. Install OpenBLAS ({Fix}) and run again.",
        _ => null,
    };
}
