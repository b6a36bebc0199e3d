using System.Text;
using FedCoLLM.Actors.Jobs;
using FedCoLLM.Learning.Federation;
using FedCoLLM.Learning.Training;

namespace FedCoLLM.Actors.Tests.Jobs;

/// <summary>JobFile.Parse and the canonical JobDefinition: defaults, canonical bytes and hash, differences, and the
/// re-verification of a node's local model and data files.</summary>
public sealed class JobFileTests : IDisposable
{
    readonly JobFixture fixture = new();

    public void Dispose() => fixture.Dispose();

    [Fact]
    public void A_minimal_job_is_fully_defaulted()
    {
        var job = fixture.Parse();

        Assert.Equal("tiny", job.Id);
        Assert.Equal(42, job.Seed);
        Assert.Equal(["animal", "plant"], job.Enrolled);
        Assert.Equal(1, job.Quorum);
        Assert.Equal(TimeSpan.FromMinutes(30), job.ClientTrainingDeadline);
        Assert.Equal(TimeSpan.FromMinutes(5), job.AggregationDeadline);
        Assert.Equal(3, job.MaxRoundAttempts);
        Assert.Equal(2e-3, job.Training.Client.LearningRate);
        Assert.Equal(1e-3, job.Training.LlmDistillation.LearningRate);
        Assert.Null(job.Training.LlmFineTuning);
        Assert.Equal(64, job.Distillation.Kd.TopK);
        Assert.Equal(" {answer}", job.Data.Prompt.AnswerTemplate);
        Assert.Equal(["c_attn", "c_fc", "c_proj"], job.Lora.Slm.TargetModules);
        Assert.Equal(new JobCompute("cpu", 2, "float32"), job.Compute);
        Assert.Equal(["animal", "plant"], job.Evaluation.Sets.Select(s => s.Name));
        Assert.Equal(64, job.Evaluation.BatchSize);
    }

    [Fact]
    public void Quoted_whitespace_of_an_inline_prompt_is_kept()
    {
        var job = fixture.Parse("""data { prompt { template = "Q: {question}\nA:", answer = " {answer}" } }""");

        Assert.Equal(new FedCoLLM.Learning.Data.QaPromptFormat("Q: {question}\nA:", " {answer}"), job.Data.Prompt);
    }

    [Fact]
    public void Paths_stay_as_written_and_content_is_fingerprinted()
    {
        var job = fixture.Parse();

        Assert.Equal(fixture.PathOf("slm"), job.Models.Slm.Path);
        Assert.Equal(["config.json", "merges.txt", "model.safetensors", "vocab.json"], job.Models.Slm.Files.Keys);
        Assert.Equal(DirectoryFingerprint.OfFile(fixture.PathOf("slm/model.safetensors")), job.Models.Slm.Files["model.safetensors"]);
        Assert.Equal(DirectoryFingerprint.Hash(job.Models.Slm.Files), job.Models.Slm.Sha256);
        Assert.Equal(DirectoryFingerprint.OfFile(fixture.PathOf("public.jsonl")), job.Data.PublicSet.Sha256);
        Assert.Equal(fixture.PathOf("public.jsonl"), job.PublicSetPath);
    }

    [Fact]
    public void Canonical_bytes_round_trip_exactly()
    {
        var job = fixture.Parse($$"""
            strategy = centralized
            training { llm-fine-tuning { max-steps = 3 } }
            data { server-training-set = "{{fixture.PathOf("train.jsonl")}}", prompt { template = "Q: {question} ünïcode \"quoted\"\nA:" } }
            lora { slm { dropout = 0.1, alpha = 1e-8 } }
            updates { max-norm-ratio = 2.5 }
            """);
        var bytes = job.CanonicalBytes();

        var back = JobDefinition.FromCanonicalBytes(bytes);
        Assert.Equal(2.5, back.Updates.MaxNormRatio);
        Assert.Equal(2.5, JobSpecs.From(back).MaxUpdateNormRatio);

        Assert.Equal(bytes, back.CanonicalBytes());
        Assert.Equal(job, back);
        Assert.Equal(job.Hash, back.Hash);
        Assert.Equal(3, back.Training.LlmFineTuning!.MaxSteps);
        Assert.Equal(0.1, back.Lora.Slm.Dropout);
    }

    [Fact]
    public void Canonical_bytes_use_the_job_file_keys_in_a_fixed_order_and_do_not_depend_on_how_the_file_was_written()
    {
        var reordered = fixture.Parse("distillation { reduction = mean, temperature = 1.0 }\n clients { enrolled = [animal, plant] }");
        var text = Encoding.UTF8.GetString(fixture.Parse().CanonicalBytes());

        Assert.Equal(fixture.Parse().CanonicalBytes(), reordered.CanonicalBytes());
        Assert.StartsWith("{\n  \"id\": \"tiny\",\n  \"strategy\": \"fedcollm\",\n  \"rounds\": 2,\n  \"seed\": 42,", text);
        Assert.Contains("\"learning-rate\": 0.002,", text);
        Assert.Contains("\"scale-kd-by-t-squared\": false,", text);
        Assert.Contains("\"client-training\": \"30m\",", text);
        Assert.Equal(64, fixture.Parse().Hash.Length);
    }

    [Fact]
    public void Bytes_that_are_not_canonical_are_refused()
    {
        var bytes = fixture.Parse().CanonicalBytes();
        var reformatted = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(bytes).Replace("\n  ", "\n    "));

        Assert.Throws<JobFileException>(() => JobDefinition.FromCanonicalBytes(reformatted));
    }

    [Fact]
    public void First_difference_names_the_dotted_key_and_both_values()
    {
        var job = fixture.Parse();

        Assert.Null(job.FirstDifference(fixture.Parse()));
        Assert.Equal("distillation.temperature (1 vs 2)", job.FirstDifference(fixture.Parse("distillation { temperature = 2 }")));
        Assert.Equal("clients.enrolled[1] (plant vs missing)", job.FirstDifference(fixture.Parse("clients { enrolled = [animal] }")));

        var other = job with { Models = job.Models with { Slm = job.Models.Slm with { Files = new Dictionary<string, string>(job.Models.Slm.Files) { ["model.safetensors"] = new string('c', 64) } } } };
        var expected = $"models.slm.files[\"model.safetensors\"] ({DirectoryFingerprint.Short(job.Models.Slm.Files["model.safetensors"])} vs cccccccccccc…)";
        Assert.Equal(expected, job.FirstDifference(other));
    }

    [Fact]
    public void To_setup_maps_every_key_onto_the_learning_types()
    {
        var setup = fixture.Parse("""
            seed = 7
            training {
              client { max-examples = 10, batch-size = 4 }
              slm-distillation { max-examples = 20 }
            }
            distillation { top-k = 16, lambda = 0.5 }
            data { max-length = 64, evaluation { batch-size = 8 } }
            compute { threads = 1 }
            """).ToSetup();

        Assert.Equal(fixture.PathOf("slm"), setup.SlmDirectory);
        Assert.Equal(7, setup.Compute.Seed);
        Assert.Equal(1, setup.Compute.Threads);
        Assert.Equal(10, setup.MaxClientExamples);
        Assert.Equal(20, setup.MaxPublicExamples);
        Assert.Equal(4, setup.ClientTraining.BatchSize);
        Assert.Equal(16, setup.TopK);
        Assert.Equal(16, setup.Distillation.Kd.TopK);
        Assert.Equal(0.5, setup.Distillation.Lambda);
        Assert.Equal(8, setup.EvalBatchSize);
        Assert.Equal(64, setup.MaxLength);
        Assert.Equal(LearningRateScheduleKind.CosineWithWarmup, setup.LlmDistillation.Optimizer.Schedule);
        setup.Validate();
    }

    [Fact]
    public void Verify_model_files_names_the_file_that_differs_is_missing_or_is_extra()
    {
        var job = fixture.Parse();
        Assert.Null(job.VerifyModelFiles(ModelKind.Slm));

        Blobs.TempDirectory.FlipByte(fixture.PathOf("slm/model.safetensors"), 3);
        var differs = job.VerifyModelFiles(ModelKind.Slm);
        Assert.StartsWith("models.slm: file model.safetensors differs from the job (local ", differs);
        Assert.EndsWith($"; the node's copy of {fixture.PathOf("slm")} is not the model the job was submitted with", differs);
        Assert.Null(job.VerifyModelFiles(ModelKind.Llm));

        File.Delete(fixture.PathOf("llm/merges.txt"));
        Assert.StartsWith("models.llm: file merges.txt is missing", job.VerifyModelFiles(ModelKind.Llm));
        fixture.Write("llm/merges.txt", "#version: 0.2\na b\n");
        fixture.Write("llm/extra.bin", "x");
        Assert.StartsWith("models.llm: file extra.bin is extra", job.VerifyModelFiles(ModelKind.Llm));
    }

    [Fact]
    public void Verify_server_files_names_the_set_that_changed()
    {
        var job = fixture.Parse();
        Assert.Null(job.VerifyServerFiles());

        File.AppendAllText(fixture.PathOf("plant.jsonl"), JobFixture.Question + "\n");

        Assert.StartsWith($"data.evaluation.sets[1] (plant): file {fixture.PathOf("plant.jsonl")} differs from the job", job.VerifyServerFiles());
        File.Delete(fixture.PathOf("public.jsonl"));
        Assert.StartsWith("data.public-set: " + fixture.PathOf("public.jsonl") + " does not exist on this node", job.VerifyServerFiles());
    }
}
