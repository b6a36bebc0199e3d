using FedCoLLM.Learning.Lora;
using FedCoLLM.Learning.Models;
using static TorchSharp.torch;

namespace FedCoLLM.Learning.Tests.Lora;

public class ProjectionTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Forward_output_belongs_to_the_callers_dispose_scope(bool withLora)
    {
        using var layer = new Projection("p", 4, 3, hasBias: true, weightIsInputMajor: true);
        if (withLora) layer.AddLora(rank: 2, alpha: 4, dropout: 0);
        using var x = ones(2, 4);
        Tensor y;
        using (NewDisposeScope())
        {
            using (NewDisposeScope()) y = layer.forward(x);
            // Disposed with the scope it was created in, not moved one scope further out.
            Assert.True(y.IsInvalid);
        }
    }

    [Fact]
    public void Lora_added_to_a_model_in_eval_mode_is_in_eval_mode()
    {
        using var model = ToyModel.Create(); // eval()
        LoraAdapter.Apply(model, ToyModel.Config(), seed: 5);
        Assert.All(model.modules(), m => Assert.False(m.training, $"{m.GetName()} is in training mode"));
    }
}
