using System.Text;
using NSec.Cryptography;

namespace FedCoLLM.Actors.Identity;

/// <summary>
/// A client's key pair on disk, in one directory per node: <c>ID.key</c> (the private key, PKCS#8 PEM, created with
/// mode 0600 and refused when group or others may read it, as ssh does) and <c>ID.pub</c> (the public key as the job
/// file enrols it, one line). <c>fedcollm keys new</c> writes them; a client node loads <c>ID.key</c> from its keys
/// directory (<c>fedcollm.identity.keys-dir</c>, env <c>FEDCOLLM_KEYS_DIR</c>).
/// </summary>
public static class ClientKeyFiles
{
    public const UnixFileMode PrivateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    public static string PrivatePath(string directory, string clientId) => Path.Combine(directory, clientId + ".key");
    public static string PublicPath(string directory, string clientId) => Path.Combine(directory, clientId + ".pub");

    /// <summary>Generates a key pair for <paramref name="clientId"/> and writes both files; refuses to replace an existing
    /// key (an enrolled key replaced by accident would lock the client out of its jobs). Returns the public key line.</summary>
    public static string New(string directory, string clientId)
    {
        CheckId(clientId);
        Directory.CreateDirectory(directory);
        var privatePath = PrivatePath(directory, clientId);
        var publicPath = PublicPath(directory, clientId);
        foreach (var existing in new[] { privatePath, publicPath }.Where(File.Exists))
            throw new IOException($"{existing} exists; a client's key is made once. Delete both {clientId}.key and {clientId}.pub first if you mean to replace it (and enrol the new public key in every job file that names {clientId}).");
        using var key = Key.Create(ClientPublicKey.Algorithm, new KeyCreationParameters { ExportPolicy = KeyExportPolicies.AllowPlaintextExport });
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = PrivateMode; // never readable by others, not even for a moment
        using (var file = new FileStream(privatePath, options))
            file.Write(key.Export(KeyBlobFormat.PkixPrivateKeyText));
        var publicKey = ClientPublicKey.Format(key.PublicKey);
        File.WriteAllText(publicPath, publicKey + "\n", new UTF8Encoding(false));
        return publicKey;
    }

    /// <summary>The signer of <paramref name="clientId"/> from <paramref name="directory"/>, or null when the directory holds
    /// no key for it. A key file that exists but is unreadable, malformed or readable by others is refused with the fix.</summary>
    public static ClientSigner? Load(string directory, string clientId)
    {
        CheckId(clientId);
        var path = PrivatePath(directory, clientId);
        if (!File.Exists(path)) return null;
        if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(path) & ~PrivateMode & (UnixFileMode)0b111_111_111) != 0)
            throw new InvalidDataException($"{path}: the private key of client {clientId} may be read or written by others (mode {Convert.ToString((int)File.GetUnixFileMode(path), 8)}); run chmod 600 {path}.");
        try
        {
            var key = Key.Import(ClientPublicKey.Algorithm, File.ReadAllBytes(path), KeyBlobFormat.PkixPrivateKeyText);
            return new ClientSigner(clientId, key);
        }
        catch (Exception e) when (e is FormatException or ArgumentException)
        {
            throw new InvalidDataException($"{path}: not an Ed25519 private key in PKCS#8 PEM ({e.Message}); make one with `fedcollm keys new --client-id {clientId}`.", e);
        }
    }

    static void CheckId(string clientId)
    {
        if (string.IsNullOrWhiteSpace(clientId) || !clientId.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.') || clientId.Trim('.').Length == 0)
            throw new ArgumentException($"Client id \"{clientId}\" may hold only letters, digits, '-', '_' and '.' (it names the key files).", nameof(clientId));
    }
}
