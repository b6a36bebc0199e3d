using System.Buffers;
using System.Security.Cryptography;

namespace FedCoLLM.Actors.Blobs;

/// <summary>
/// <see cref="IBlobStore"/> on a local directory: blob <c>S</c> lives at <c>&lt;root&gt;/&lt;S[0..2]&gt;/&lt;S&gt;</c>.
/// </summary>
/// <remarks>
/// Writes go to a uniquely named temp file (<c>.&lt;guid&gt;.tmp</c>) in the blob's own directory, are fsynced,
/// then renamed over the final name in one atomic step, so a reader never sees a partial blob and two writers of
/// the same blob (threads or processes) cannot interfere: both write identical bytes and the last rename wins.
/// The directory entry itself is not fsynced (.NET has no portable call for it); after a power loss a blob may be
/// missing, never partial. A temp file left by a crash is ignored (not a 64-hex name) and may be deleted by hand.
/// </remarks>
public sealed class DirectoryBlobStore : IBlobStore
{
    private const int CopyBufferSize = 81_920;

    public DirectoryBlobStore(string root)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(root);
        Root = Path.GetFullPath(root);
        Directory.CreateDirectory(Root);
    }

    /// <summary>Absolute path of the store's root directory.</summary>
    public string Root { get; }

    /// <summary>Where <paramref name="blob"/> lives (or would live) on disk.</summary>
    public string PathOf(BlobRef blob)
    {
        ArgumentNullException.ThrowIfNull(blob);
        blob.Validate();
        return Path.Combine(Root, blob.Sha256[..2], blob.Sha256);
    }

    public BlobRef Put(byte[] bytes)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        return Put(bytes.AsSpan());
    }

    public BlobRef Put(ReadOnlySpan<byte> bytes)
    {
        var blob = BlobRef.Of(bytes);
        if (Contains(blob) && Touch(blob))
            return blob;
        var final = PathOf(blob);
        var temp = NewTempPath(Path.GetDirectoryName(final)!);
        try
        {
            using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 0))
            {
                file.Write(bytes);
                file.Flush(flushToDisk: true);
            }
            Commit(temp, blob, final);
            return blob;
        }
        finally
        {
            TryDelete(temp);
        }
    }

    public bool Contains(BlobRef blob)
    {
        var file = new FileInfo(PathOf(blob));
        return file.Exists && file.Length == blob.Size;
    }

    public byte[] Read(BlobRef blob)
    {
        var path = PathOf(blob);
        if (blob.Size > Array.MaxLength)
            throw new NotSupportedException($"{blob} is too large for one array; use OpenRead.");
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw NotFound(blob, path);
        }
        var actual = BlobRef.Hex(SHA256.HashData(bytes));
        if (bytes.LongLength != blob.Size || actual != blob.Sha256)
            throw Corrupt(blob, actual, bytes.LongLength, path);
        return bytes;
    }

    public Stream OpenRead(BlobRef blob)
    {
        var path = PathOf(blob);
        FileStream file;
        try
        {
            file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete,
                CopyBufferSize, FileOptions.Asynchronous | FileOptions.SequentialScan);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw NotFound(blob, path);
        }
        if (file.Length != blob.Size)
        {
            var length = file.Length;
            file.Dispose();
            throw Corrupt(blob, actualSha256: "", length, path);
        }
        return file;
    }

    public async Task<BlobRef> PutAsync(Stream source, BlobRef? expected = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        expected?.Validate();
        if (expected is not null && Contains(expected) && Touch(expected))
            return expected; // nothing to do; the source is left unread
        var temp = NewTempPath(expected is null ? Root : Path.GetDirectoryName(PathOf(expected))!);
        var buffer = ArrayPool<byte>.Shared.Rent(CopyBufferSize);
        try
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            long total = 0;
            await using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None,
                             bufferSize: 0, FileOptions.Asynchronous))
            {
                int n;
                while ((n = await source.ReadAsync(buffer.AsMemory(0, CopyBufferSize), cancellationToken).ConfigureAwait(false)) > 0)
                {
                    total += n;
                    if (expected is not null && total > expected.Size)
                        throw new BlobIntegrityException(expected, "", total, path: null,
                            $"Received more bytes than {expected} has (at least {total:N0}): the sender's copy or the transfer is " +
                            "corrupt. Nothing was stored.");
                    hash.AppendData(buffer, 0, n);
                    await file.WriteAsync(buffer.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
                }
                file.Flush(flushToDisk: true);
            }
            var actual = BlobRef.Hex(hash.GetHashAndReset());
            if (expected is not null && (total != expected.Size || actual != expected.Sha256))
                throw new BlobIntegrityException(expected, actual, total, path: null,
                    $"Received bytes do not match {expected}: expected {expected.Size:N0} bytes with SHA-256 {expected.Sha256}, " +
                    $"got {total:N0} bytes with SHA-256 {actual}. The sender's copy or the transfer is corrupt. Nothing was stored.");
            var blob = expected ?? new BlobRef(actual, total);
            var final = PathOf(blob);
            Directory.CreateDirectory(Path.GetDirectoryName(final)!);
            Commit(temp, blob, final);
            return blob;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            TryDelete(temp);
        }
    }

    /// <summary>
    /// Removes <paramref name="blob"/>'s file (garbage collection); true when a file was
    /// removed. One unlink(2): a reader that already opened it keeps reading (<see cref="OpenRead"/> shares delete), and
    /// a crash leaves the blob either whole or gone, never partial.
    /// </summary>
    public bool Delete(BlobRef blob)
    {
        var path = PathOf(blob);
        if (!File.Exists(path)) return false;
        try
        {
            File.Delete(path);
            return true;
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return false;
        }
    }

    /// <summary>Suffix of a blob file being collected (<see cref="Collect"/>); <see cref="RecoverCollections"/> resolves
    /// one a crash left behind.</summary>
    public const string CollectingSuffix = ".collecting";

    /// <summary>
    /// Garbage collection of one blob: removes it unless its file was written (or re-put, <see cref="Touch"/>) at or after
    /// <paramref name="writtenBefore"/>. Null when it is not here, true when removed, false when spared. The file is first
    /// renamed aside and its time checked there, so a writer that re-puts the blob at the same moment either finds it gone
    /// (and writes it again) or refreshed it before the rename (and it is put back).
    /// </summary>
    public bool? Collect(BlobRef blob, DateTime writtenBefore)
    {
        var path = PathOf(blob);
        var aside = path + CollectingSuffix;
        try { File.Move(path, aside, overwrite: true); }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException) { return null; }
        if (File.GetLastWriteTimeUtc(aside) >= writtenBefore)
        {
            Restore(aside, path);
            return false;
        }
        File.Delete(aside);
        return true;
    }

    /// <summary>After a crash in the middle of <see cref="Collect"/>: puts back every blob renamed aside (the next sweep
    /// decides again) and removes writers' temp files older than <paramref name="tempOlderThan"/> (a writer that
    /// crashed; a live one writes its temp file within seconds). Returns the temp files removed.</summary>
    public int RecoverCollections(DateTime tempOlderThan)
    {
        var removed = 0;
        foreach (var file in Directory.EnumerateFiles(Root, "*", SearchOption.AllDirectories))
        {
            var name = Path.GetFileName(file);
            try
            {
                if (name.EndsWith(CollectingSuffix, StringComparison.Ordinal))
                    Restore(file, file[..^CollectingSuffix.Length]);
                else if (name.StartsWith('.') && name.EndsWith(".tmp", StringComparison.Ordinal) && File.GetLastWriteTimeUtc(file) < tempOlderThan)
                {
                    File.Delete(file);
                    removed++;
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // gone meanwhile, or not ours to touch: the next sweep looks again
            }
        }
        return removed;
    }

    static void Restore(string aside, string path)
    {
        try { File.Move(aside, path, overwrite: false); }
        catch (IOException) when (File.Exists(path)) { File.Delete(aside); } // written again meanwhile: same bytes
    }

    /// <summary>Marks a blob as just put (its file's time is now), so a concurrent <see cref="Collect"/> spares it; false
    /// when the file is gone (collected meanwhile: the caller writes it again).</summary>
    bool Touch(BlobRef blob)
    {
        try
        {
            File.SetLastWriteTimeUtc(PathOf(blob), DateTime.UtcNow);
            return Contains(blob);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return Contains(blob); // a read-only store: nothing collects there either
        }
    }

    /// <summary>Every blob file in the store (by name and length; not re-hashed), and the bytes they hold.</summary>
    public IReadOnlyList<BlobRef> List()
    {
        var blobs = new List<BlobRef>();
        foreach (var dir in Directory.EnumerateDirectories(Root))
            foreach (var file in Directory.EnumerateFiles(dir))
            {
                var name = Path.GetFileName(file);
                if (name.Length != BlobRef.HexLength || !name.All(c => c is >= '0' and <= '9' or >= 'a' and <= 'f') || !name.StartsWith(Path.GetFileName(dir), StringComparison.Ordinal))
                    continue; // temp files (.GUID.tmp) and anything else that is not a blob
                long length;
                try { length = new FileInfo(file).Length; }
                catch (FileNotFoundException) { continue; }
                blobs.Add(new BlobRef(name, length));
            }
        return blobs;
    }

    public override string ToString() => $"DirectoryBlobStore({Root})";

    /// <summary>Atomically publishes <paramref name="temp"/> as <paramref name="final"/>, unless an intact copy is already there.</summary>
    private void Commit(string temp, BlobRef blob, string final)
    {
        if (Contains(blob) && Touch(blob))
            return; // another writer won the race; its bytes are the same
        try
        {
            File.Move(temp, final, overwrite: true); // rename(2): atomic replace (repairs a copy of the wrong size)
        }
        catch (IOException) when (Contains(blob))
        {
            // Windows refuses to replace a file another thread has open; that file is a complete copy.
        }
    }

    private static string NewTempPath(string directory)
    {
        Directory.CreateDirectory(directory);
        return Path.Combine(directory, $".{Guid.NewGuid():N}.tmp");
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path); // no-op when the rename already moved it
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private static BlobNotFoundException NotFound(BlobRef blob, string path) =>
        new(blob, $"{blob} is not in the blob store (no file at '{path}').");

    private static BlobIntegrityException Corrupt(BlobRef blob, string actualSha256, long actualSize, string path) =>
        new(blob, actualSha256, actualSize, path,
            $"Blob file '{path}' is corrupt: it should hold {blob.Size:N0} bytes with SHA-256 {blob.Sha256}, but holds " +
            $"{actualSize:N0} bytes" + (actualSha256.Length > 0 ? $" with SHA-256 {actualSha256}" : "") +
            ". Delete the file; the blob will then be fetched again from a node that holds it.");
}
