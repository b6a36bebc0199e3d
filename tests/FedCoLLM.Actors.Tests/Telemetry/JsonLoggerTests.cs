using System.Text.Json;
using Akka.Event;
using FedCoLLM.Actors.Telemetry;

namespace FedCoLLM.Actors.Tests.Telemetry;

public class JsonLoggerTests
{
    [Fact]
    public void A_log_event_is_one_line_of_json_with_its_level_source_message_and_context()
    {
        var message = TemplateMessages.Of("Job {JobId} committed round {Round}\nnext", "wordnet", 2);
        var e = new Info("akka://fedcollm/system/sharding/federation-job/7/wordnet", typeof(JsonLoggerTests), message);

        var line = JsonLogger.Format(e);

        Assert.DoesNotContain('\n', line);
        var json = JsonDocument.Parse(line).RootElement;
        Assert.Equal("info", json.GetProperty("level").GetString());
        Assert.Equal("akka://fedcollm/system/sharding/federation-job/7/wordnet", json.GetProperty("logger").GetString());
        Assert.Equal("Job wordnet committed round 2\nnext", json.GetProperty("message").GetString());
        Assert.Equal("wordnet", json.GetProperty("job").GetString());
        Assert.Equal(2, json.GetProperty("round").GetInt32());
        Assert.False(json.TryGetProperty("client", out _));
        Assert.Equal(2, json.GetProperty("properties").GetProperty("Round").GetInt32());
        Assert.True(DateTimeOffset.TryParse(json.GetProperty("timestamp").GetString(), out _));
    }

    [Fact]
    public void An_error_carries_its_exception_and_a_positional_template_has_no_properties()
    {
        var e = new Error(new InvalidOperationException("boom"), "akka://fedcollm/user/blobs", typeof(JsonLoggerTests),
            TemplateMessages.Of("Cannot serve {0}", "blob 1234"));

        var json = JsonDocument.Parse(JsonLogger.Format(e)).RootElement;

        Assert.Equal("error", json.GetProperty("level").GetString());
        Assert.Equal("Cannot serve blob 1234", json.GetProperty("message").GetString());
        Assert.Contains("boom", json.GetProperty("error").GetString());
        Assert.False(json.TryGetProperty("properties", out _));
    }
}
