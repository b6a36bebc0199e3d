using System.Text;
using FedCoLLM.Learning.Federation;
using FedCoLLM.Learning.Lora;
using FedCoLLM.Learning.SecureAggregation;
using static FedCoLLM.Learning.Tests.SecureAggregation.SecAggTestData;

namespace FedCoLLM.Learning.Tests.SecureAggregation;

/// <summary>The byte-level session the federation's actors run: named clients, node secrets, blobs in and out.</summary>
public class SecAggSessionTests
{
    static readonly string[] Ids = ["noun.animal", "noun.artifact", "noun.plant", "verb.motion"];
    static byte[] NodeSecret(string id) => Encoding.UTF8.GetBytes("node-secret-of-" + id);

    sealed record Round(SecAggSession Session, AdapterWeights Reference, Dictionary<string, ClientAdapter> Adapters);

    static Round Make(int attempt)
    {
        var reference = Reference();
        var adapters = Ids.Select((id, i) => (id, a: new ClientAdapter(Trained(reference, i + 1), 40 + 10 * i))).ToDictionary(x => x.id, x => x.a);
        return new Round(new SecAggSession("abc123", 2, attempt, Ids, new SecAggSettings(1), SecureFedAvg.VectorLength(reference)), reference, adapters);
    }

    static (AdapterWeights Weights, long Total, IReadOnlyList<string> Contributors) Run(Round r, string? dropAfterSharing = null)
    {
        var s = r.Session;
        var secrets = Ids.ToDictionary(id => id, id => s.Secrets(id, NodeSecret(id)));
        var roster = s.CollectKeys(Ids.ToDictionary(id => id, id => s.AdvertiseKeys(secrets[id])));
        var bundles = Ids.ToDictionary(id => id, id => s.ShareKeys(secrets[id], roster));
        var forwarded = s.RouteShares(roster, bundles);
        var alive = Ids.Where(id => id != dropAfterSharing).ToArray();
        var masked = alive.ToDictionary(id => id, id => s.MaskAdapter(secrets[id], roster, forwarded[id], r.Reference, r.Adapters[id].Weights, r.Adapters[id].SampleCount));
        var request = s.CollectMaskedInputs(roster, bundles, masked);
        var responses = alive.ToDictionary(id => id, id => s.Unmask(secrets[id], roster, forwarded[id], request));
        return s.Aggregate(r.Reference, roster, request, masked, responses);
    }

    [Fact]
    public void A_round_through_blobs_gives_FedAvg_of_the_contributors_within_the_bound()
    {
        var r = Make(1);
        var (weights, total, contributors) = Run(r, dropAfterSharing: "noun.plant");
        Assert.Equal(["noun.animal", "noun.artifact", "verb.motion"], contributors);
        var included = contributors.Select(id => r.Adapters[id]).ToList();
        Assert.Equal(included.Sum(a => a.SampleCount), total);
        var plain = FedAvg.Aggregate(included);
        double bound = r.Session.Codec.MeanErrorBound(3, total) + 2 * Math.ScaleB(1.0, -22);
        foreach (var name in plain.Names)
            for (int i = 0; i < plain[name].Values.Length; i++)
                Assert.True(Math.Abs(plain[name].Values[i] - weights[name].Values[i]) <= bound);
    }

    [Fact]
    public void Rerunning_an_attempt_from_the_node_secrets_is_bit_identical_and_another_attempt_is_not()
    {
        var first = Run(Make(1));
        var again = Run(Make(1));
        Assert.Equal(first.Weights.ToBytes(), again.Weights.ToBytes());
        var s1 = Make(1).Session; var s2 = Make(2).Session;
        Assert.Equal(s1.AdvertiseKeys(s1.Secrets(Ids[0], NodeSecret(Ids[0]))), Make(1).Session.AdvertiseKeys(s1.Secrets(Ids[0], NodeSecret(Ids[0]))));
        Assert.NotEqual(s1.AdvertiseKeys(s1.Secrets(Ids[0], NodeSecret(Ids[0]))), s2.AdvertiseKeys(s2.Secrets(Ids[0], NodeSecret(Ids[0]))));
    }

    [Fact]
    public void A_client_cannot_speak_for_another()
    {
        var s = Make(1).Session;
        var advert = s.AdvertiseKeys(s.Secrets(Ids[1], NodeSecret(Ids[1])));
        var e = Assert.Throws<SecureAggregationException>(() => s.CollectKeys(new Dictionary<string, byte[]> { [Ids[0]] = advert }));
        Assert.Contains("claims to be from client number 2", e.Message);
        var garbage = Assert.Throws<SecureAggregationException>(() => s.CollectKeys(new Dictionary<string, byte[]> { [Ids[0]] = [1, 2, 3] }));
        Assert.Contains("malformed", garbage.Message);
    }

    [Fact]
    public void The_node_secret_file_is_created_owner_only_and_read_back()
    {
        var dir = Path.Combine(AppContext.BaseDirectory, "runs-secagg", Guid.NewGuid().ToString("N"));
        var path = Path.Combine(dir, "secagg.key");
        try
        {
            var a = NodeSecretFile.LoadOrCreate(path);
            Assert.Equal(a, NodeSecretFile.LoadOrCreate(path));
            if (!OperatingSystem.IsWindows())
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
            File.WriteAllBytes(path, [1, 2, 3]);
            Assert.Throws<InvalidDataException>(() => NodeSecretFile.LoadOrCreate(path));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}
