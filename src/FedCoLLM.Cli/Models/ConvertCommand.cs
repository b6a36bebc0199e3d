using System.ComponentModel;
using FedCoLLM.Learning;
using FedCoLLM.Learning.Models;
using Spectre.Console;
using Spectre.Console.Cli;
using static TorchSharp.torch;

namespace FedCoLLM.Cli.Models;

/// <summary><c>fedcollm convert --model DIR --dtype f16|bf16|f32 [--out DIR]</c>: re-saves a checkpoint's weights in another storage type.</summary>
public sealed class ConvertCommand : Command<ConvertCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("--model <DIR>")] public string Model { get; init; } = "";
        [CommandOption("--dtype <TYPE>")] [DefaultValue("f16")] public string DType { get; init; } = "f16";
        [CommandOption("--out <DIR>")] [Description("Output directory (default: overwrite --model's weights).")]
        public string? Out { get; init; }

        public override ValidationResult Validate() =>
            DType is "f16" or "bf16" or "f32" ? ValidationResult.Success() : ValidationResult.Error("--dtype must be f16, bf16 or f32");
    }

    public override int Execute(CommandContext context, Settings s, CancellationToken cancellation)
    {
        var dtype = s.DType switch { "f16" => ScalarType.Float16, "bf16" => ScalarType.BFloat16, _ => ScalarType.Float32 };
        using var model = PretrainedModels.Load(s.Model, new ComputeOptions());
        PretrainedModels.Save(model, s.Out ?? s.Model, dtype);
        AnsiConsole.MarkupLine($"[green]saved[/] {Markup.Escape(s.Out ?? s.Model)} as {s.DType}");
        return 0;
    }
}
