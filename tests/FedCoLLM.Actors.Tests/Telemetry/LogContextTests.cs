using Akka.Event;
using FedCoLLM.Actors.Telemetry;

namespace FedCoLLM.Actors.Tests.Telemetry;

public class LogContextTests
{
    [Theory]
    [InlineData("akka://fedcollm/system/sharding/federation-job/7/wordnet", "wordnet", null)]
    [InlineData("akka.tcp://fedcollm@10.0.0.4:4101/system/sharding/federation-job/7/my%20job/worker#123", "my job", null)]
    [InlineData("akka://fedcollm/system/sharding/aggregator/3/wordnet/worker", "wordnet", null)]
    [InlineData("akka://fedcollm/user/client-noun.animal/wordnet/worker", "wordnet", "noun.animal")]
    [InlineData("akka://fedcollm/user/client-acme%2Feu", null, "acme/eu")]
    [InlineData("akka://fedcollm/system/sharding/job-directory/0/directory", null, null)]
    [InlineData("akka://fedcollm/system/cluster/core/daemon", null, null)]
    [InlineData("Akka.Cluster.Cluster", null, null)]
    public void The_job_and_client_come_from_the_actor_path(string source, string? job, string? client)
    {
        var context = LogContext.FromSource(source);

        Assert.Equal((job, (int?)null, client), (context.Job, context.Round, context.Client));
    }

    [Fact]
    public void Named_template_properties_give_the_round_and_win_over_the_path()
    {
        var message = TemplateMessages.Of("Client {ClientId}: round {Round} failed", "bob", 3);
        var e = new Warning("akka://fedcollm/user/client-alice/wordnet", typeof(LogContextTests), message);

        Assert.Equal(new LogContext("wordnet", 3, "bob"), LogContext.Of(e));
    }
}
