using System.Diagnostics;
using System.Text.RegularExpressions;

namespace FedCoLLM.Cli.Lab;

/// <summary>
/// Hosts on one machine, like pods: every host is a Linux network namespace with its own address on a bridge and its
/// own hostname, so every node listens on the same port. The bridge lives in a hub namespace the lab creates too, so
/// nothing touches the machine's own network: the lab's addresses exist only inside namespaces it made, and traffic
/// never leaves them. Names resolve through a hosts file each namespace gets (/etc/netns/NS/hosts, which
/// <c>ip netns exec</c> mounts over /etc/hosts). <see cref="Dispose"/> deletes every namespace and file it made; a new
/// lab first deletes what a crashed one (its process gone) left behind.
/// </summary>
public sealed partial class LabNetwork : IDisposable
{
    /// <summary>The lab's subnet, inside its own namespaces only.</summary>
    public const string Subnet = "10.213.0";
    const string Prefix = "fedlab";

    readonly string id;
    readonly Dictionary<string, Host> hosts = new(StringComparer.Ordinal);
    readonly List<string> namespaces = [];
    bool disposed;

    /// <summary>A host of the lab: its namespace, address and the hub side of its link (taken down to partition it).</summary>
    public sealed record Host(string Name, string Namespace, string Address, string HubLink);

    LabNetwork(string id) => this.id = id;

    public IReadOnlyDictionary<string, Host> Hosts => hosts;
    public string Hub => $"{Prefix}{id}-hub";

    /// <summary>Why namespaces cannot be made here, or null when they can (root, iproute2, a kernel that allows it).</summary>
    public static string? Unavailable()
    {
        if (!OperatingSystem.IsLinux()) return "network namespaces need Linux";
        if (Environment.UserName != "root") return $"network namespaces need root (running as {Environment.UserName})";
        foreach (var tool in new[] { "ip", "unshare", "hostname" })
            if (Which(tool) is null) return $"`{tool}` is not installed (Debian: iproute2, util-linux, hostname)";
        var probe = $"{Prefix}probe{Environment.ProcessId}";
        var (code, output) = Run("ip", "netns", "add", probe);
        if (code != 0) return $"`ip netns add` was refused: {output.Trim()}";
        Run("ip", "netns", "del", probe);
        return null;
    }

    /// <summary>Creates the hub and one namespace per host, host i at <see cref="Subnet"/>.(10+i). Every host's hosts
    /// file names every host, plus the <paramref name="aliases"/> each host answers to.</summary>
    public static LabNetwork Create(IReadOnlyList<string> names, IReadOnlyDictionary<string, string[]>? aliases = null)
    {
        RemoveOrphans();
        var lab = new LabNetwork($"{Environment.ProcessId:x}");
        try
        {
            lab.AddNamespace(lab.Hub);
            lab.Ip(lab.Hub, "link", "add", "br0", "type", "bridge");
            lab.Ip(lab.Hub, "link", "set", "br0", "up");
            for (var i = 0; i < names.Count; i++) lab.AddHost(names[i], i);
            var lines = new List<string> { "127.0.0.1 localhost" };
            foreach (var host in lab.hosts.Values)
                lines.Add($"{host.Address} {string.Join(' ', (aliases?.GetValueOrDefault(host.Name) ?? []).Append(host.Name).Distinct())}");
            foreach (var host in lab.hosts.Values)
            {
                var etc = Path.Combine("/etc/netns", host.Namespace);
                Directory.CreateDirectory(etc);
                File.WriteAllLines(Path.Combine(etc, "hosts"), lines);
            }
            return lab;
        }
        catch
        {
            lab.Dispose();
            throw;
        }
    }

    void AddHost(string name, int index)
    {
        if (!Regex.IsMatch(name, "^[a-z0-9]([a-z0-9-]*[a-z0-9])?$"))
            throw new ArgumentException($"Lab host name \"{name}\" is not a DNS label (lower-case letters, digits and '-').", nameof(name));
        var ns = $"{Prefix}{id}-{name}";
        var hubLink = $"fl{id}h{index}";   // interface names are at most 15 characters
        var nodeLink = $"fl{id}n{index}";
        if (hubLink.Length > 15) throw new InvalidOperationException($"Interface name {hubLink} is too long.");
        AddNamespace(ns);
        var address = $"{Subnet}.{10 + index}";
        Ip(Hub, "link", "add", hubLink, "type", "veth", "peer", "name", nodeLink);
        Ip(Hub, "link", "set", nodeLink, "netns", ns);
        Ip(Hub, "link", "set", hubLink, "master", "br0");
        Ip(Hub, "link", "set", hubLink, "up");
        Ip(ns, "link", "set", nodeLink, "name", "eth0");
        Ip(ns, "addr", "add", $"{address}/24", "dev", "eth0");
        Ip(ns, "link", "set", "eth0", "up");
        Ip(ns, "link", "set", "lo", "up");
        hosts[name] = new Host(name, ns, address, hubLink);
    }

    void AddNamespace(string ns)
    {
        Check("ip", "netns", "add", ns);
        namespaces.Add(ns);
    }

    /// <summary>A process started in <paramref name="host"/>'s namespace, with its hostname and the bind mounts
    /// (source → path inside) a pod's volumes would give it (deploy/lab/enter.sh).</summary>
    public ProcessStartInfo Wrap(string host, ProcessStartInfo inner, IReadOnlyList<(string Source, string Target)> mounts)
    {
        var h = hosts[host];
        var info = new ProcessStartInfo("ip")
        {
            WorkingDirectory = inner.WorkingDirectory,
            RedirectStandardOutput = inner.RedirectStandardOutput,
            RedirectStandardError = inner.RedirectStandardError,
            UseShellExecute = false,
        };
        foreach (var a in new[] { "netns", "exec", h.Namespace, "unshare", "--uts", "--", "sh", EnterScript, host }) info.ArgumentList.Add(a);
        foreach (var (source, target) in mounts) info.ArgumentList.Add($"{Path.GetFullPath(source)}:{target}");
        info.ArgumentList.Add("--");
        info.ArgumentList.Add(inner.FileName);
        foreach (var a in inner.ArgumentList) info.ArgumentList.Add(a);
        foreach (var (k, v) in inner.Environment) info.Environment[k] = v;
        return info;
    }

    /// <summary>deploy/lab/enter.sh, shipped next to the program.</summary>
    public static string EnterScript => Path.Combine(AppContext.BaseDirectory, "deploy", "lab", "enter.sh");

    /// <summary>Runs a short command in a host's namespace (curl, psql): exit code and everything it printed.</summary>
    public (int Code, string Output) Exec(string host, params string[] command) =>
        Run(["ip", "netns", "exec", hosts[host].Namespace, .. command]);

    /// <summary>Cuts the host off from every other host (its link to the bridge goes down: packets are dropped, open
    /// connections see silence, as behind a failed switch port).</summary>
    public void Partition(string host) => Ip(Hub, "link", "set", hosts[host].HubLink, "down");

    public void Heal(string host) => Ip(Hub, "link", "set", hosts[host].HubLink, "up");

    void Ip(string ns, params string[] args) => Check(["ip", "netns", "exec", ns, "ip", .. args]);

    static void Check(params string[] command) => ShortCommand.Check("Lab network", command);

    static (int Code, string Output) Run(params string[] command)
    {
        var result = ShortCommand.Run(command);
        return (result.Code, result.Output);
    }

    static string? Which(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "/usr/sbin:/usr/bin:/sbin:/bin").Split(':')
            .Select(d => Path.Combine(d, tool)).FirstOrDefault(File.Exists);

    /// <summary>Deletes the namespaces (and hosts files) of labs whose process is gone.</summary>
    static void RemoveOrphans()
    {
        var (code, output) = Run("ip", "netns", "list");
        if (code != 0) return;
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var m = OwnedNamespace().Match(line);
            if (!m.Success) continue;
            var pid = Convert.ToInt32(m.Groups[1].Value, 16);
            if (pid != Environment.ProcessId && Directory.Exists($"/proc/{pid}")) continue;
            DeleteNamespace(m.Groups[0].Value);
        }
    }

    static void DeleteNamespace(string ns)
    {
        // Processes still inside (a node the harness lost track of) would keep the namespace's links alive.
        var (_, pids) = Run("ip", "netns", "pids", ns);
        foreach (var pid in pids.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            if (int.TryParse(pid, out var p)) try { Process.GetProcessById(p).Kill(true); } catch (ArgumentException) { } catch (InvalidOperationException) { }
        Run("ip", "netns", "del", ns);
        var etc = Path.Combine("/etc/netns", ns);
        if (Directory.Exists(etc)) Directory.Delete(etc, recursive: true);
    }

    [GeneratedRegex($@"^{Prefix}([0-9a-f]+)-[a-z0-9-]+")]
    private static partial Regex OwnedNamespace();

    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        // Host namespaces first (their veth peers vanish with them), the hub last.
        foreach (var ns in Enumerable.Reverse(namespaces)) DeleteNamespace(ns);
    }
}
