using FedCoLLM.Actors.Blobs;

namespace FedCoLLM.Actors.Tests.Blobs;

public sealed class DirectoryBlobStoreTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly DirectoryBlobStore _store;

    public DirectoryBlobStoreTests() => _store = new DirectoryBlobStore(_dir.Path);

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Put_stores_under_the_hash_and_Read_returns_the_bytes()
    {
        var bytes = TempDirectory.RandomBytes(100_000, seed: 1);
        var blob = _store.Put(bytes);

        Assert.Equal(BlobRef.Of(bytes), blob);
        Assert.True(_store.Contains(blob));
        Assert.Equal(bytes, _store.Read(blob));
        Assert.Equal([Path.Combine(blob.Sha256[..2], blob.Sha256)], _dir.Files());
        Assert.Equal(Path.Combine(_dir.Path, blob.Sha256[..2], blob.Sha256), _store.PathOf(blob));
        using var stream = _store.OpenRead(blob);
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        Assert.Equal(bytes, copy.ToArray());
    }

    [Fact]
    public void Put_is_idempotent_and_leaves_no_temp_files()
    {
        var bytes = TempDirectory.RandomBytes(10_000, seed: 2);
        var first = _store.Put(bytes);
        var written = File.GetLastWriteTimeUtc(_store.PathOf(first));
        var second = _store.Put(bytes.AsSpan());

        Assert.Equal(first, second);
        // Not written again, but its time refreshed: a re-put blob is live for blob GC (BlobCollector's cut-off).
        Assert.True(File.GetLastWriteTimeUtc(_store.PathOf(first)) >= written);
        Assert.Equal(bytes, _store.Read(first));
        Assert.Single(_dir.Files());
    }

    [Fact]
    public void Empty_blob_round_trips()
    {
        var blob = _store.Put(Array.Empty<byte>());
        Assert.Empty(_store.Read(blob));
    }

    [Fact]
    public void Missing_blob_is_not_contained_and_Read_says_so()
    {
        var blob = BlobRef.Of([1, 2, 3]);
        Assert.False(_store.Contains(blob));
        var e = Assert.Throws<BlobNotFoundException>(() => _store.Read(blob));
        Assert.Contains("not in the blob store", e.Message);
        Assert.Throws<BlobNotFoundException>(() => _store.OpenRead(blob));
    }

    [Fact]
    public void Read_detects_a_corrupted_file_and_names_it()
    {
        var blob = _store.Put(TempDirectory.RandomBytes(4096, seed: 3));
        var path = _store.PathOf(blob);
        TempDirectory.FlipByte(path, 1000);

        Assert.True(_store.Contains(blob)); // same size: Contains does not re-hash
        var e = Assert.Throws<BlobIntegrityException>(() => _store.Read(blob));
        Assert.Contains(path, e.Message);
        Assert.Contains("Delete the file", e.Message);
        Assert.Equal(path, e.Path);
        Assert.Equal(blob, e.Expected);
        Assert.NotEqual(blob.Sha256, e.ActualSha256);
    }

    [Fact]
    public void Truncated_file_is_not_contained_and_is_repaired_by_the_next_put()
    {
        var bytes = TempDirectory.RandomBytes(4096, seed: 4);
        var blob = _store.Put(bytes);
        var path = _store.PathOf(blob);
        File.WriteAllBytes(path, bytes[..100]);

        Assert.False(_store.Contains(blob));
        var e = Assert.Throws<BlobIntegrityException>(() => _store.OpenRead(blob));
        Assert.Contains(path, e.Message);

        _store.Put(bytes);
        Assert.Equal(bytes, _store.Read(blob));
    }

    [Fact]
    public async Task PutAsync_stores_a_stream_that_matches_the_expected_ref()
    {
        var bytes = TempDirectory.RandomBytes(300_000, seed: 5);
        var expected = BlobRef.Of(bytes);

        var blob = await _store.PutAsync(new MemoryStream(bytes), expected, TestContext.Current.CancellationToken);

        Assert.Equal(expected, blob);
        Assert.Equal(bytes, _store.Read(blob));
        Assert.Single(_dir.Files());
    }

    [Fact]
    public async Task PutAsync_without_expected_ref_returns_the_ref_of_what_it_read()
    {
        var bytes = TempDirectory.RandomBytes(1234, seed: 6);
        var blob = await _store.PutAsync(new MemoryStream(bytes), cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(BlobRef.Of(bytes), blob);
        Assert.Equal(bytes, _store.Read(blob));
        Assert.Single(_dir.Files());
    }

    [Fact]
    public async Task PutAsync_rejects_other_bytes_and_leaves_the_store_unchanged()
    {
        var bytes = TempDirectory.RandomBytes(50_000, seed: 7);
        var expected = BlobRef.Of(bytes);
        var wrong = (byte[])bytes.Clone();
        wrong[123] ^= 1;

        var e = await Assert.ThrowsAsync<BlobIntegrityException>(() =>
            _store.PutAsync(new MemoryStream(wrong), expected, TestContext.Current.CancellationToken));

        Assert.Contains(expected.Sha256, e.Message);
        Assert.Contains(BlobRef.Of(wrong).Sha256, e.Message);
        Assert.Equal(BlobRef.Of(wrong).Sha256, e.ActualSha256);
        Assert.False(_store.Contains(expected));
        Assert.False(_store.Contains(BlobRef.Of(wrong)));
        Assert.Empty(_dir.Files());
    }

    [Fact]
    public async Task PutAsync_rejects_a_stream_longer_or_shorter_than_expected()
    {
        var bytes = TempDirectory.RandomBytes(200_000, seed: 8);
        var expected = BlobRef.Of(bytes[..100_000]);
        var ct = TestContext.Current.CancellationToken;

        var tooLong = await Assert.ThrowsAsync<BlobIntegrityException>(() => _store.PutAsync(new MemoryStream(bytes), expected, ct));
        Assert.Contains("more bytes", tooLong.Message);
        var tooShort = await Assert.ThrowsAsync<BlobIntegrityException>(() => _store.PutAsync(new MemoryStream(bytes[..99_999]), expected, ct));
        Assert.Equal(99_999, tooShort.ActualSize);
        Assert.Empty(_dir.Files());
    }

    [Fact]
    public async Task Concurrent_puts_of_the_same_blob_all_succeed_and_store_one_intact_copy()
    {
        var bytes = TempDirectory.RandomBytes(1 << 20, seed: 9);
        var expected = BlobRef.Of(bytes);
        using var start = new Barrier(8);

        var puts = Enumerable.Range(0, 8).Select(i => Task.Factory.StartNew(() =>
        {
            start.SignalAndWait(TestContext.Current.CancellationToken);
            return i % 2 == 0
                ? _store.Put(bytes)
                : _store.PutAsync(new MemoryStream(bytes), expected).GetAwaiter().GetResult();
        }, TestContext.Current.CancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default));
        var refs = await Task.WhenAll(puts);

        Assert.All(refs, r => Assert.Equal(expected, r));
        Assert.Equal(bytes, _store.Read(expected));
        Assert.Single(_dir.Files());
    }
}
