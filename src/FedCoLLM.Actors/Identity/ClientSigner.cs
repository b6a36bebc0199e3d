using NSec.Cryptography;

namespace FedCoLLM.Actors.Identity;

/// <summary>A client silo's private key, loaded once on its node; it signs the silo's updates and never leaves the node.</summary>
public sealed class ClientSigner : IDisposable
{
    readonly Key key;

    public string ClientId { get; }
    /// <summary>The public half in job-file form (<see cref="ClientPublicKey"/>).</summary>
    public string PublicKey { get; }

    internal ClientSigner(string clientId, Key key)
    {
        ClientId = clientId;
        this.key = key;
        PublicKey = ClientPublicKey.Format(key.PublicKey);
    }

    /// <summary>The signature of <paramref name="statement"/>, base64 (as it travels and is journaled).</summary>
    public string Sign(UpdateStatement statement)
    {
        if (statement.ClientId != ClientId)
            throw new ArgumentException($"The key of client {ClientId} signs only that client's updates, not {statement.ClientId}'s.", nameof(statement));
        return Convert.ToBase64String(ClientPublicKey.Algorithm.Sign(key, statement.Bytes()));
    }

    public void Dispose() => key.Dispose();
}
