using FedCoLLM.Actors.Hosting;

namespace FedCoLLM.Cli.Federation;

/// <summary>
/// Where a node's client silos find their private training files: said on the node's own command line
/// (<c>--data ID=FILE</c>, or <c>--data-dir DIR</c> for DIR/ID/train.jsonl), never in a job. The paths stay on this node.
/// </summary>
public static class ClientData
{
    /// <summary>The silos for <paramref name="clientIds"/>; an id without a file is refused naming the options.</summary>
    public static IReadOnlyList<LocalClient> Resolve(IEnumerable<string> clientIds, IReadOnlyList<string> data, string? dataDir)
    {
        var explicitFiles = Parse(data);
        var silos = new List<LocalClient>();
        foreach (var id in clientIds.Distinct(StringComparer.Ordinal))
        {
            if (explicitFiles.TryGetValue(id, out var file)) silos.Add(new LocalClient(id, file));
            else if (dataDir is not null && File.Exists(Path.Combine(dataDir, id, "train.jsonl")))
                silos.Add(new LocalClient(id, Path.GetFullPath(Path.Combine(dataDir, id, "train.jsonl"))));
            else
                throw new ArgumentException($"client \"{id}\" has no training file on this node: pass --data {id}=FILE" +
                    (dataDir is null ? "" : $" (or put it at {Path.Combine(dataDir, id, "train.jsonl")})") + ".");
        }
        foreach (var silo in silos)
            if (!File.Exists(silo.DataPath))
                throw new FileNotFoundException($"--data {silo.ClientId}={silo.DataPath}: no such file.", silo.DataPath);
        return silos;
    }

    /// <summary>The ids named by <c>--data ID=FILE</c> options.</summary>
    public static IReadOnlyDictionary<string, string> Parse(IReadOnlyList<string> data)
    {
        var files = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var item in data)
        {
            var at = item.IndexOf('=');
            if (at <= 0 || at == item.Length - 1)
                throw new ArgumentException($"--data {item}: expected CLIENT-ID=FILE, e.g. --data acme=/srv/acme/train.jsonl.");
            var id = item[..at];
            if (!files.TryAdd(id, Path.GetFullPath(item[(at + 1)..])))
                throw new ArgumentException($"--data names client \"{id}\" twice.");
        }
        return files;
    }
}
