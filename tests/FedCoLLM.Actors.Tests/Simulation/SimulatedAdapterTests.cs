using FedCoLLM.Actors.Simulation;
using FedCoLLM.Learning.Federation;

namespace FedCoLLM.Actors.Tests.Simulation;

/// <summary>The simulation's adapters must pass the server's real update screen, or a simulated round measures refusals.</summary>
public sealed class SimulatedAdapterTests
{
    [Fact]
    public void A_perturbed_adapter_passes_the_update_screen_and_equal_seeds_give_equal_bytes()
    {
        var global = SimulatedAdapter.Create(32_768, seed: 7);
        var update = SimulatedAdapter.Perturb(global, seed: 11);

        Assert.Equal(global, SimulatedAdapter.Create(32_768, seed: 7));
        Assert.Equal(update, SimulatedAdapter.Perturb(global, seed: 11));
        Assert.NotEqual(update, SimulatedAdapter.Perturb(global, seed: 12));
        Assert.NotEqual(global, update);
        Assert.InRange(global.Length, 32_768 * 4, 32_768 * 4 + 4096);
        var verdict = UpdateScreen.Check(global, update, SimulatedStepRunner.SampleCount, new UpdateLimits(10));
        Assert.True(verdict.Accepted, verdict.Reason);
        Assert.True(verdict.DeltaNorm > 0 && verdict.DeltaNorm < verdict.ReferenceNorm);
    }

    [Fact]
    public void An_adapter_of_a_size_that_is_not_a_whole_number_of_tensors_keeps_every_parameter()
    {
        var adapter = SimulatedAdapter.Create(SimulatedAdapter.ParametersForBytes(32 * 1024) + 5, seed: 1);
        var header = FedCoLLM.Learning.Checkpoints.SafeTensors.ReadHeader(adapter, "test");
        Assert.Equal(8192 + 5, header.Entries.Sum(e => (e.End - e.Begin) / 4));
    }
}
