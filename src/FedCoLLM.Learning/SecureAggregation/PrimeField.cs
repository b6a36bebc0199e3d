namespace FedCoLLM.Learning.SecureAggregation;

/// <summary>
/// Arithmetic in GF(p) for p = 2^61 − 1, the Mersenne prime Shamir sharing runs over. A Mersenne prime makes the
/// reduction two shifts and an add, and 61 bits hold 7-byte chunks of a secret with room to spare.
/// </summary>
public static class PrimeField
{
    public const ulong P = (1UL << 61) - 1;

    public static ulong Add(ulong a, ulong b) { ulong s = a + b; return s >= P ? s - P : s; }
    public static ulong Sub(ulong a, ulong b) => a >= b ? a - b : a + P - b;

    public static ulong Mul(ulong a, ulong b)
    {
        UInt128 x = (UInt128)a * b;
        ulong r = (ulong)(x & P) + (ulong)(x >> 61);
        r = (r & P) + (r >> 61);
        return r >= P ? r - P : r;
    }

    public static ulong Pow(ulong a, ulong e)
    {
        ulong r = 1;
        while (e != 0)
        {
            if ((e & 1) != 0) r = Mul(r, a);
            a = Mul(a, a);
            e >>= 1;
        }
        return r;
    }

    /// <summary>a^(p−2) = a^(−1) by Fermat; a must be non-zero.</summary>
    public static ulong Inverse(ulong a)
    {
        if (a % P == 0) throw new DivideByZeroException("Zero has no inverse in GF(2^61 − 1).");
        return Pow(a % P, P - 2);
    }
}
