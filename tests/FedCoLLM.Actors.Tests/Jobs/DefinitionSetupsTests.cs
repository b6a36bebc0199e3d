using FedCoLLM.Actors.Blobs;
using FedCoLLM.Actors.Jobs;
using FedCoLLM.Actors.Rounds;
using FedCoLLM.Actors.Strategies;
using FedCoLLM.Actors.Tests.Actors;
using FedCoLLM.Actors.Tests.Blobs;
using FedCoLLM.Actors.Workers;
using FedCoLLM.Learning.Federation;

namespace FedCoLLM.Actors.Tests.Jobs;

/// <summary>A node builds a step's setup from the job definition the step names, never from its own settings, and
/// refuses the step when its copy of a model is not the job's.</summary>
public sealed class DefinitionSetupsTests : IDisposable
{
    readonly TempDirectory temp = new();
    readonly DirectoryBlobStore store;

    public DefinitionSetupsTests()
    {
        foreach (var model in new[] { "gpt2-slm", "gpt2-llm" })
        {
            var target = Directory.CreateDirectory(Path.Combine(temp.Path, model)).FullName;
            foreach (var file in Directory.GetFiles(Path.Combine(Tiny.RepoRoot, "tests", "fixtures", model)))
                File.Copy(file, Path.Combine(target, Path.GetFileName(file)));
        }
        store = new DirectoryBlobStore(Path.Combine(temp.Path, "blobs"));
    }

    JobDefinition Definition() => JobFile.Parse($$"""
        job {
          id = "byo", strategy = fedcollm, rounds = 1, seed = 5
          models {
            slm { path = "{{Path.Combine(temp.Path, "gpt2-slm")}}" }
            llm { path = "{{Path.Combine(temp.Path, "gpt2-llm")}}" }
          }
          distillation { top-k = 16 }
          data {
            max-length = 64
            public-set = "{{Path.Combine(Tiny.RepoRoot, "tests", "fixtures", "arc-style", "public.jsonl")}}"
            evaluation { sets = [ { name = "test", path = "{{Path.Combine(Tiny.RepoRoot, "tests", "fixtures", "arc-style", "test.jsonl")}}" } ] }
          }
          clients { enrolled = [acme, globex] }
          compute { threads = 3 }
        }
        """, "byo.conf", StrategyCatalog.Names);

    StepRequest Step(BlobRef? spec) =>
        new("byo", 1, RoundPhase.ClientsTraining, [], 1, "acme") { Operation = Operations.TrainSlm, Spec = spec };

    [Fact]
    public void A_step_gets_the_setup_of_the_definition_it_names()
    {
        var definition = Definition();
        var spec = store.Put(definition.CanonicalBytes());
        using var setups = new DefinitionSetups(store);

        var setup = setups.For(Step(spec));

        Assert.Equal(definition.ToSetup(), setup.Steps.Setup);
        Assert.Equal(3, setup.Steps.Setup.Compute.Threads); // the job's thread count, whatever the node was started with
        Assert.Same(setup, setups.For(Step(spec)));
        setup.For(Step(spec), ModelKind.Slm, ModelKind.Llm);
    }

    [Fact]
    public void A_node_whose_model_file_differs_from_the_job_refuses_the_step_naming_the_file()
    {
        var spec = store.Put(Definition().CanonicalBytes());
        var weights = Path.Combine(temp.Path, "gpt2-slm", "model.safetensors");
        var bytes = File.ReadAllBytes(weights);
        bytes[^1] ^= 0xFF;
        File.WriteAllBytes(weights, bytes);
        using var setups = new DefinitionSetups(store);

        var ex = Assert.Throws<StepRefusedException>(() => setups.For(Step(spec)).For(Step(spec), ModelKind.Slm));

        Assert.Contains("models.slm", ex.Message);
        Assert.Contains("model.safetensors", ex.Message);
        // The LLM is the job's: a step that needs only it still runs.
        setups.For(Step(spec)).For(Step(spec), ModelKind.Llm);
    }

    [Fact]
    public void A_step_that_names_no_definition_or_one_this_node_lacks_is_refused()
    {
        using var setups = new DefinitionSetups(store);

        Assert.Contains("names no job definition", Assert.Throws<StepRefusedException>(() => setups.For(Step(null))).Message);
        Assert.Contains("not in this node's store", Assert.Throws<StepRefusedException>(() => setups.For(Step(BlobRef.Of("other"u8)))).Message);
    }

    public void Dispose() => temp.Dispose();
}
