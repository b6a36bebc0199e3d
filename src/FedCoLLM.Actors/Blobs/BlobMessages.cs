using Akka.Streams;
using FedCoLLM.Actors.Protocol;

namespace FedCoLLM.Actors.Blobs;

/// <summary>Ask a node's <see cref="BlobServerActor"/> for a blob. Answered by <see cref="BlobInline"/>, <see cref="BlobOffer"/>,
/// <see cref="BlobBulkOffer"/> (only when <paramref name="Bulk"/>: the asker can use the bulk channel) or <see cref="BlobMissing"/>.</summary>
public sealed record FetchBlob(BlobRef Blob, bool Bulk = false) : IWireMessage;

/// <summary>
/// The holder has the blob and serves it on its bulk channel (<see cref="BulkChannel"/>): connect to
/// <paramref name="Host"/>:<paramref name="Port"/> and present <paramref name="Ticket"/> (single use, valid for
/// <see cref="BulkChannel.TicketLifetime"/>) to receive the bytes.
/// </summary>
public sealed record BlobBulkOffer(BlobRef Blob, string Host, int Port, byte[] Ticket) : IWireMessage;

/// <summary>
/// The holder has the blob: <see cref="Chunks"/> streams its bytes in chunks of at most
/// <see cref="BlobServerActor.DefaultChunkSize"/> bytes, each chunk its own remoting message (well below the
/// 128,000-byte default frame). Single-shot: materialize it once, within the stream-ref subscription timeout
/// (<c>akka.stream.materializer.stream-ref.subscription-timeout</c>, 30 s by default).
/// </summary>
/// <remarks>
/// Chunks are <c>byte[]</c>, not <c>Akka.IO.ByteString</c>: Akka.NET 1.5.73 has no serializer bound to
/// ByteString, so it would fall through to the JSON serializer (as an array of numbers, several times the frame),
/// while <c>byte[]</c> is bound to the built-in ByteArraySerializer.
/// </remarks>
public sealed record BlobOffer(BlobRef Blob, ISourceRef<byte[]> Chunks) : IWireMessage;

/// <summary>
/// The holder has the blob and it fits in one chunk: its bytes, in the answer itself. A stream ref costs a
/// subscription handshake and a stream on each side, which for a job definition or a small adapter took longer than the
/// bytes; with thousands of clients fetching at once it was most of the round. Verified by the receiver like a stream.
/// </summary>
public sealed record BlobInline(BlobRef Blob, byte[] Bytes) : IWireMessage;

/// <summary>The holder does not have the blob (or its copy is damaged and it will not serve it).</summary>
public sealed record BlobMissing(BlobRef Blob) : IWireMessage;

/// <summary>
/// Ask a node's <see cref="BlobServerActor"/> to take a copy of <paramref name="Blob"/>, pulled from the blob server at
/// <paramref name="Holder"/>. Answered by <see cref="BlobReplicated"/> once its store holds the verified bytes, or a
/// <c>Status.Failure</c>.
/// </summary>
public sealed record ReplicateBlob(BlobRef Blob, string Holder) : IWireMessage;

public sealed record BlobReplicated(BlobRef Blob) : IWireMessage;

/// <summary>Published on this node's event stream when its <see cref="BlobServerActor"/> starts streaming a blob to
/// <paramref name="Requester"/> (a node address). Local only: operators and the chaos harness watch transfers with it.</summary>
public sealed record BlobServing(BlobRef Blob, string Requester);
