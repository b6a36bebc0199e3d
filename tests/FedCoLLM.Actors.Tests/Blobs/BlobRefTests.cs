using System.Text;
using FedCoLLM.Actors.Blobs;

namespace FedCoLLM.Actors.Tests.Blobs;

public class BlobRefTests
{
    private const string AbcSha256 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

    [Fact]
    public void Of_hashes_the_bytes_as_lower_case_hex_sha256()
    {
        var blob = BlobRef.Of(Encoding.ASCII.GetBytes("abc"));
        Assert.Equal(new BlobRef(AbcSha256, 3), blob);
        Assert.Equal(0, BlobRef.Of(Array.Empty<byte>()).Size);
    }

    [Theory]
    [InlineData("BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD")] // upper case
    [InlineData("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015a")] // 63 chars
    [InlineData("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015adx")] // 65 chars
    [InlineData("ga7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")] // not hex
    [InlineData("")]
    public void Constructor_rejects_malformed_hashes_with_a_clear_message(string sha256)
    {
        var e = Assert.Throws<ArgumentException>(() => new BlobRef(sha256, 3));
        Assert.Contains("64 lower-case hex characters", e.Message);
    }

    [Fact]
    public void Constructor_rejects_negative_sizes_and_null()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new BlobRef(AbcSha256, -1));
        Assert.Throws<ArgumentNullException>(() => new BlobRef(null!, 3));
    }

    [Fact]
    public void Parse_accepts_upper_case_and_white_space()
    {
        Assert.Equal(new BlobRef(AbcSha256, 3), BlobRef.Parse(" " + AbcSha256.ToUpperInvariant() + "\n", 3));
        Assert.Throws<ArgumentException>(() => BlobRef.Parse("abc", 3));
    }

    [Fact]
    public void ToString_is_short_and_Validate_returns_the_ref()
    {
        var blob = new BlobRef(AbcSha256, 3_145_728);
        Assert.Equal("blob ba7816bf8f01 (3,145,728 B)", blob.ToString());
        Assert.Same(blob, blob.Validate());
    }
}
