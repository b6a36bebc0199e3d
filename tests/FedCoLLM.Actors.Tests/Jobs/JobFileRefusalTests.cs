using FedCoLLM.Actors.Jobs;

namespace FedCoLLM.Actors.Tests.Jobs;

/// <summary>Bad input: every refusal is a JobFileException whose Key and message name the job-file key to fix.</summary>
public sealed class JobFileRefusalTests : IDisposable
{
    readonly JobFixture fixture = new();

    public void Dispose() => fixture.Dispose();

    [Fact]
    public void A_misspelt_key_is_named_with_the_nearest_valid_key()
    {
        var ex = fixture.Refused("distillation { temprature = 2 }");

        Assert.Equal("job.distillation.temprature", ex.Key);
        Assert.EndsWith("job.distillation.temprature: unknown key; did you mean job.distillation.temperature?", ex.Message);
    }

    [Fact]
    public void A_misspelt_block_is_reported_before_the_missing_block_it_was_meant_to_be()
    {
        var ex = Assert.Throws<JobFileException>(() => JobFile.Parse(fixture.Text().Replace("clients {", "cleints {"), "tiny.conf", JobFixture.Strategies));

        Assert.Equal("job.cleints", ex.Key);
        Assert.Contains("did you mean job.clients?", ex.Message);
    }

    [Fact]
    public void An_unknown_key_with_no_near_match_lists_the_valid_keys()
    {
        var ex = fixture.Refused("compute { gpu-count = 2 }");

        Assert.Equal("job.compute.gpu-count", ex.Key);
        Assert.Contains("job.compute takes device, threads, dtype", ex.Message);
    }

    [Fact]
    public void An_unknown_strategy_is_named_with_the_valid_ones()
    {
        var ex = fixture.Refused("strategy = fedcolm");

        Assert.Equal("job.strategy", ex.Key);
        Assert.Contains("is not one of centralized, fedavg, fedcollm, standalone, zeroshot; did you mean fedcollm?", ex.Message);
    }

    [Theory]
    [InlineData("rounds = null", "job.rounds", "missing")]
    [InlineData("rounds = four", "job.rounds", "is not a whole number")]
    [InlineData("rounds = 0", "job.rounds", "set it to at least 1")]
    [InlineData("id = \"a b\"", "job.id", "letters, digits")]
    [InlineData("lora { slm { r = 0 } }", "job.lora.slm.r", "job.lora.slm.r = 0; it must be at least 1.")]
    [InlineData("lora { llm { targets = [] } }", "job.lora.llm.targets", "is empty")]
    [InlineData("training { client { epochs = 0 } }", "job.training.client.epochs", "job.training.client.epochs is out of range; set it to at least 1.")]
    [InlineData("training { slm-distillation { learning-rate = -1 } }", "job.training.slm-distillation.learning-rate", "is out of range")]
    [InlineData("training { client { schedule = cosine } }", "job.training.client.schedule", "is not one of constant, cosine-with-warmup")]
    [InlineData("training { llm-distillation { max-examples = 5 } }", "job.training.llm-distillation.max-examples", "job.training.slm-distillation.max-examples")]
    [InlineData("training { llm-fine-tuning { epochs = 2 } }", "job.training.llm-fine-tuning", "only strategy centralized")]
    [InlineData("distillation { temperature = 0 }", "job.distillation.temperature", "job.distillation.temperature = 0; it must be a finite number > 0.")]
    [InlineData("distillation { lambda = -1 }", "job.distillation.lambda", "is out of range")]
    [InlineData("distillation { scale-kd-by-t-squared = maybe }", "job.distillation.scale-kd-by-t-squared", "is not a boolean")]
    [InlineData("data { max-length = 1 }", "job.data.max-length", "at least 2")]
    [InlineData("data { prompt { template = \"no placeholder\" } }", "job.data.prompt.template", "{question}")]
    [InlineData("data { evaluation { max-items = 0 } }", "job.data.evaluation.max-items", "at least 1")]
    [InlineData("deadlines { client-training = 30 }", "job.deadlines.client-training", "e.g. 30m")]
    [InlineData("deadlines { max-round-attempts = 0 }", "job.deadlines.max-round-attempts", "at least 1")]
    [InlineData("compute { dtype = float16 }", "job.compute.dtype", "is not one of float32")]
    [InlineData("compute { threads = 0 }", "job.compute.threads", "at least 1")]
    [InlineData("updates { max-norm-ratio = 0 }", "job.updates.max-norm-ratio", "positive number")]
    [InlineData("updates { max-norm = 3 }", "job.updates.max-norm", "job.updates takes max-norm-ratio")]
    [InlineData("data { server-training-set = \"x.jsonl\" }", "job.data.server-training-set", "only strategy centralized")]
    [InlineData("strategy = centralized", "job.data.server-training-set", "missing")]
    public void Wrong_types_and_ranges_name_the_key(string extra, string key, string message)
    {
        var ex = fixture.Refused(extra);

        Assert.Equal(key, ex.Key);
        Assert.Contains(message, ex.Message);
        Assert.StartsWith("tiny.conf: ", ex.Message);
    }

    [Theory]
    [InlineData("clients { quorum = 3 }", "= 3 but only 2 clients are enrolled")]
    [InlineData("clients { quorum = 0 }", "= 0; set it to at least 1")]
    [InlineData("clients { enrolled = [animal, plant, animal] }", "names animal more than once")]
    [InlineData("clients { enrolled = [] }", "is empty")]
    [InlineData("strategy = standalone", "strategy standalone trains exactly one")]
    [InlineData("clients { enrolled = [\"../data/animal.jsonl\"] }", "never a path")]
    public void Bad_client_lists_and_quorums_are_refused(string extra, string message)
    {
        var ex = fixture.Refused(extra);

        Assert.StartsWith("job.clients.", ex.Key);
        Assert.Contains(message, ex.Message);
    }

    [Fact]
    public void Zeroshot_runs_without_clients_and_standalone_with_one()
    {
        Assert.Empty(fixture.Parse("strategy = zeroshot\n clients { enrolled = [] }").Enrolled);
        Assert.Equal(["plant"], fixture.Parse("strategy = standalone\n clients { enrolled = [plant] }").Enrolled);
    }

    [Fact]
    public void A_missing_model_directory_or_config_json_is_refused()
    {
        var missing = fixture.Refused($"models {{ llm {{ path = \"{fixture.PathOf("nowhere")}\" }} }}");
        Assert.Equal("job.models.llm.path", missing.Key);
        Assert.Contains("does not exist", missing.Message);

        File.Delete(fixture.PathOf("slm/config.json"));
        var noConfig = fixture.Refused("");
        Assert.Equal("job.models.slm.path", noConfig.Key);
        Assert.Contains("has no config.json", noConfig.Message);
    }

    [Fact]
    public void Models_whose_tokenizers_differ_are_refused()
    {
        fixture.Write("llm/merges.txt", "#version: 0.2\nb a\n");
        var differs = fixture.Refused("");
        Assert.Equal("job.models.llm.path", differs.Key);
        Assert.Contains("its merges.txt differs from", differs.Message);

        fixture.Write("llm/merges.txt", "#version: 0.2\na b\n");
        fixture.Write("llm/tokenizer.json", "{}");
        Assert.Contains("has tokenizer files [merges.txt, tokenizer.json, vocab.json] but", fixture.Refused("").Message);
    }

    [Fact]
    public void A_model_sha256_that_is_not_the_directory_content_hash_is_refused_naming_both()
    {
        var actual = fixture.Parse().Models.Slm.Sha256;
        Assert.Equal(actual, fixture.Parse($"models {{ slm {{ sha256 = \"{actual}\" }} }}").Models.Slm.Sha256);

        var wrong = new string('0', 64);
        var ex = fixture.Refused($"models {{ slm {{ sha256 = \"{wrong}\" }} }}");

        Assert.Equal("job.models.slm.sha256", ex.Key);
        Assert.Contains(wrong, ex.Message);
        Assert.Contains(actual, ex.Message);
    }

    [Fact]
    public void A_missing_data_file_is_refused()
    {
        File.Delete(fixture.PathOf("animal.jsonl"));

        var ex = fixture.Refused("");

        Assert.Equal("job.data.evaluation.sets[0].path", ex.Key);
        Assert.Contains("does not exist", ex.Message);
    }

    [Fact]
    public void A_data_file_in_an_unknown_schema_is_named_by_file_and_line()
    {
        fixture.Write("public.jsonl", JobFixture.Question + "\n" + """{"id": "q2", "prompt": "?", "answerKey": "A"}""" + "\n");

        var ex = fixture.Refused("");

        Assert.Equal("job.data.public-set", ex.Key);
        Assert.Contains($"{fixture.PathOf("public.jsonl")}:2: field 'question': unknown schema", ex.Message);
    }

    [Fact]
    public void A_file_without_a_job_block_or_with_broken_hocon_is_refused()
    {
        Assert.Equal("job", Assert.Throws<JobFileException>(() => JobFile.Parse("", "x.conf", JobFixture.Strategies)).Key);
        Assert.Contains("id: unknown key; the file takes job", Assert.Throws<JobFileException>(() => JobFile.Parse("id = x", "x.conf", JobFixture.Strategies)).Message);
        Assert.Equal("job", Assert.Throws<JobFileException>(() => JobFile.Load(fixture.PathOf("none.conf"), JobFixture.Strategies)).Key);
    }

    [Fact]
    public void A_comma_after_a_block_is_refused_with_a_hint()
    {
        var ex = Assert.Throws<JobFileException>(() => JobFile.Parse("job { models { slm { path = a }, llm { path = b } } }", "x.conf", JobFixture.Strategies));

        Assert.Contains("not valid HOCON (a block { … } followed by a comma is not accepted here", ex.Message);
    }

    [Theory]
    [InlineData("temprature", "temperature")]
    [InlineData("batchsize", "batch-size")]
    [InlineData("quroum", "quorum")]
    public void Nearest_key_finds_typos(string typo, string meant)
    {
        Assert.Equal(meant, NearestKey.Find(typo, ["temperature", "batch-size", "quorum", "lambda"]));
    }

    [Fact]
    public void Nearest_key_suggests_nothing_for_an_unrelated_name() =>
        Assert.Null(NearestKey.Find("gpu-count", ["device", "threads", "dtype"]));
}
