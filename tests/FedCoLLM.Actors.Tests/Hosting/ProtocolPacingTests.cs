using Akka.Configuration;
using FedCoLLM.Actors.Hosting;
using FedCoLLM.Actors.Tests.Actors;

namespace FedCoLLM.Actors.Tests.Hosting;

/// <summary>The settings that keep a large job's control traffic bounded (hocon/protocol.conf): heartbeats paced by the
/// job's size, and the number of fetches sent to one holder at once.</summary>
public sealed class ProtocolPacingTests
{
    [Fact]
    public void A_job_paces_heartbeats_by_its_size_and_never_faster_than_the_client_heartbeat()
    {
        var defaults = ProtocolTimeouts.From(ConfigurationFactory.Empty);

        Assert.Equal(500, defaults.HeartbeatsPerSecond);
        Assert.Equal(TimeSpan.FromSeconds(5), defaults.HeartbeatFor(2));
        Assert.Equal(TimeSpan.FromSeconds(5), defaults.HeartbeatFor(2_500));
        Assert.Equal(TimeSpan.FromSeconds(20), defaults.HeartbeatFor(10_000));

        var set = ProtocolTimeouts.From(ConfigurationFactory.ParseString("fedcollm.protocol { heartbeats-per-second = 100, client-heartbeat = 2s }"));
        Assert.Equal(TimeSpan.FromSeconds(2), set.HeartbeatFor(100));
        Assert.Equal(TimeSpan.FromSeconds(10), set.HeartbeatFor(1_000));
    }

    [Theory]
    [InlineData("heartbeats-per-second")]
    [InlineData("blob-fetches-per-holder")]
    public void A_rate_or_width_below_one_is_refused_naming_the_key(string key)
    {
        var e = Assert.Throws<ArgumentException>(() => ProtocolTimeouts.From(ConfigurationFactory.ParseString($"fedcollm.protocol.{key} = 0")));
        Assert.Contains($"fedcollm.protocol.{key} = 0", e.Message);
    }

    [Fact]
    public void The_shipped_protocol_file_sets_the_defaults()
    {
        var shipped = ProtocolTimeouts.From(ConfigurationFactory.ParseString(File.ReadAllText(Path.Combine(Tiny.RepoRoot, "hocon", "protocol.conf"))));
        Assert.Equal(new ProtocolTimeouts(), shipped);
    }
}
