namespace FedCoLLM.Actors.Protocol;

/// <summary>A message for the cluster's job directory (one entity, <c>Jobs/JobDirectoryActor.cs</c>).</summary>
public interface IDirectoryMessage : IWireMessage;

/// <summary>A job entity announces itself (resent until acknowledged). Reply: <see cref="JobListed"/>.</summary>
public sealed record ListJob(string JobId, IReadOnlyList<string> Enrolled) : IDirectoryMessage;

public sealed record JobListed(string JobId) : IWireMessage;

/// <summary>A job entity reports that its job ended (resent until acknowledged). Reply: <see cref="JobDelisted"/>.</summary>
public sealed record DelistJob(string JobId, string Phase) : IDirectoryMessage;

public sealed record JobDelisted(string JobId) : IWireMessage;

/// <summary>Every job the cluster ever accepted, in submission order. Reply: <see cref="JobList"/>.</summary>
public sealed record ListJobs : IDirectoryMessage
{
    public static readonly ListJobs Instance = new();
}

public sealed record JobEntry(string JobId, IReadOnlyList<string> Enrolled, DateTimeOffset ListedAt, string? EndedIn) : IWireMessage;

public sealed record JobList(IReadOnlyList<JobEntry> Jobs) : IWireMessage;

/// <summary>Asked by a node's <see cref="Client.SiloDirectoryPoller"/> for a batch of its client silos: the running jobs that
/// enrol each. One query per batch, not per silo, so a node hosting thousands of silos costs the directory a few messages
/// per poll. Reply: <see cref="ClientsJobs"/>.</summary>
public sealed record JobsForClients(IReadOnlyList<string> ClientIds) : IDirectoryMessage;

/// <summary>The running jobs that enrol each asked client, in the order asked.</summary>
public sealed record ClientsJobs(IReadOnlyList<ClientJobs> Clients) : IWireMessage;

public sealed record ClientJobs(string ClientId, IReadOnlyList<string> JobIds) : IWireMessage;
