using FedCoLLM.Learning.Data;
using FedCoLLM.Learning.Federation;
using FedCoLLM.Learning.Training;

namespace FedCoLLM.Learning.Tests.Federation;

public class FederationSetupTests(FederationData data) : IClassFixture<FederationData>
{
    string Llm => Path.Combine(Fixtures.RepositoryRoot(), "models", "wordnet-llm");

    [Fact]
    public void The_default_setup_for_the_built_in_models_is_valid()
    {
        var setup = FederationSetup.Default(data.Slm, Llm, data.Prompt);
        Assert.Same(setup, setup.Validate());
        Assert.Equal(["c_attn", "c_fc", "c_proj"], setup.SlmLora.TargetModules);
        using var steps = new FederationSteps(setup); // reads both config.json files
    }

    public static TheoryData<string, string> Broken => new()
    {
        { "SlmDirectory", "SlmDirectory" },
        { "LlmDirectory", "LlmDirectory" },
        { "MaxLength", "MaxLength" },
        { "SlmLora.Rank", "SlmLora.Rank" },
        { "LlmLora.TargetModules", "LlmLora.TargetModules" },
        { "ClientTraining.BatchSize", "ClientTraining.BatchSize" },
        { "LlmDistillation.Optimizer", "LlmDistillation.Optimizer.LearningRate" },
        { "Distillation.Lambda", "Distillation.Lambda" },
        { "Distillation.Kd.TopK", "Distillation.Kd.TopK" },
        { "TopK", "TopK" },
        { "EvalBatchSize", "EvalBatchSize" },
        { "MaxClientExamples", "MaxClientExamples" },
        { "Compute.Threads", "Compute.Threads" },
        { "Prompt", "Prompt.PromptTemplate" },
    };

    [Theory]
    [MemberData(nameof(Broken))]
    public void Validation_names_the_broken_field(string field, string expectedName)
    {
        var ok = FederationSetup.Default(data.Slm, Llm, data.Prompt);
        var broken = field switch
        {
            "SlmDirectory" => ok with { SlmDirectory = "/no/such/model" },
            "LlmDirectory" => ok with { LlmDirectory = Path.GetTempPath() },
            "MaxLength" => ok with { MaxLength = 1 },
            "SlmLora.Rank" => ok with { SlmLora = ok.SlmLora with { Rank = 0 } },
            "LlmLora.TargetModules" => ok with { LlmLora = ok.LlmLora with { TargetModules = [] } },
            "ClientTraining.BatchSize" => ok with { ClientTraining = ok.ClientTraining with { BatchSize = 0 } },
            "LlmDistillation.Optimizer" => ok with { LlmDistillation = ok.LlmDistillation with { Optimizer = new OptimizerSettings { LearningRate = -1 } } },
            "Distillation.Lambda" => ok with { Distillation = ok.Distillation with { Lambda = double.NaN } },
            "Distillation.Kd.TopK" => ok with { Distillation = ok.Distillation with { Kd = ok.Distillation.Kd with { TopK = 7 } } },
            "TopK" => ok with { TopK = 0 },
            "EvalBatchSize" => ok with { EvalBatchSize = 0 },
            "MaxClientExamples" => ok with { MaxClientExamples = 0 },
            "Compute.Threads" => ok with { Compute = ok.Compute with { Threads = 0 } },
            "Prompt" => ok with { Prompt = new QaPromptFormat("no placeholder", " {answer}") },
            _ => throw new ArgumentException(field),
        };
        var ex = Assert.Throws<ArgumentException>(() => broken.Validate());
        Assert.Equal(expectedName, ex.ParamName);
        Assert.Contains("FederationSetup." + expectedName, ex.Message);
    }

    [Fact]
    public void A_max_length_beyond_the_models_context_is_rejected_when_the_steps_are_built()
    {
        var setup = FederationSetup.Default(data.Slm, Llm, data.Prompt) with { MaxLength = 129 };
        var ex = Assert.Throws<ArgumentException>(() => new FederationSteps(setup));
        Assert.Equal("MaxLength", ex.ParamName);
        Assert.Contains("≤ 128", ex.Message);
    }
}
