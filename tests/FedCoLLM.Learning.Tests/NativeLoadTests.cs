using static TorchSharp.torch;

namespace FedCoLLM.Learning.Tests;

public class NativeLoadTests
{
    [Fact]
    public void Libtorch_loads_and_computes()
    {
        using var x = ones(2);
        Assert.Equal(2f, x.sum().item<float>());
    }
}
