using FedCoLLM.Actors.Jobs;
using FedCoLLM.Actors.Tests.Blobs;

namespace FedCoLLM.Actors.Tests.Jobs;

/// <summary>A temp directory holding two tiny model directories and three data files, and a job file over them
/// (absolute paths, so the tests do not depend on the current directory).</summary>
internal sealed class JobFixture : IDisposable
{
    public static readonly string[] Strategies = ["centralized", "fedavg", "fedcollm", "standalone", "zeroshot"];

    public const string Question = """{"id": "q1", "question": "a cat", "choices": {"text": ["animal", "plant"], "label": ["A", "B"]}, "answerKey": "A"}""";

    readonly TempDirectory temp = new();

    public JobFixture()
    {
        foreach (var model in new[] { "slm", "llm" })
        {
            Write($"{model}/config.json", $$"""{"model_type": "gpt2", "n_embd": {{(model == "slm" ? 8 : 16)}}}""");
            Write($"{model}/vocab.json", """{"a": 0, "b": 1}""");
            Write($"{model}/merges.txt", "#version: 0.2\na b\n");
            File.WriteAllBytes(PathOf($"{model}/model.safetensors"), TempDirectory.RandomBytes(256, model.Length + model[0]));
        }
        foreach (var file in new[] { "public.jsonl", "train.jsonl", "animal.jsonl", "plant.jsonl" }) Write(file, Question + "\n");
    }

    public string Root => temp.Path;

    public string PathOf(string relative) => Path.Combine(temp.Path, relative);

    public void Write(string relative, string text)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(PathOf(relative))!);
        File.WriteAllText(PathOf(relative), text);
    }

    /// <summary>A complete job file; <paramref name="extra"/> is spliced into the job block (HOCON merges a repeated
    /// block into the earlier one, so it can override any key).</summary>
    public string Text(string extra = "") => $$"""
        job {
          id = "tiny"
          strategy = fedcollm
          rounds = 2
          models {
            slm { path = "{{PathOf("slm")}}" }
            llm { path = "{{PathOf("llm")}}" }
          }
          data {
            public-set = "{{PathOf("public.jsonl")}}"
            evaluation { sets = [ { name = "animal", path = "{{PathOf("animal.jsonl")}}" }, { name = "plant", path = "{{PathOf("plant.jsonl")}}" } ] }
          }
          clients { enrolled = [plant, animal] }
          {{extra}}
        }
        """;

    public JobDefinition Parse(string extra = "") => JobFile.Parse(Text(extra), "tiny.conf", Strategies);

    public JobFileException Refused(string extra) => Assert.Throws<JobFileException>(() => Parse(extra));

    public void Dispose() => temp.Dispose();
}
