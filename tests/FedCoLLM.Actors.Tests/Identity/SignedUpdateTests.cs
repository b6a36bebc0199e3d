using FedCoLLM.Actors.Identity;
using FedCoLLM.Actors.Rounds;
using FedCoLLM.Actors.Tests.Blobs;
using FedCoLLM.Actors.Tests.Rounds;
using static FedCoLLM.Actors.Tests.Rounds.Commands;

namespace FedCoLLM.Actors.Tests.Identity;

/// <summary>The state machine's accept path for a job that enrols client keys: signed by the enrolled key or refused, with
/// nothing journaled; the signature is journaled with the accepted update.</summary>
public sealed class SignedUpdateTests : IDisposable
{
    readonly TempDirectory dir = new();
    readonly Dictionary<string, ClientSigner> signers = new();
    readonly JobSpec spec;

    public SignedUpdateTests()
    {
        foreach (var client in Specs.Clients)
        {
            ClientKeyFiles.New(dir.Path, client);
            signers[client] = ClientKeyFiles.Load(dir.Path, client)!;
        }
        spec = (Specs.Default with { ClientKeys = signers.ToDictionary(s => s.Key, s => s.Value.PublicKey) }).Validate();
    }

    public void Dispose()
    {
        foreach (var s in signers.Values) s.Dispose();
        dir.Dispose();
    }

    SubmitUpdate Signed(SubmitUpdate u, ClientSigner? by = null, int attempt = 1) => u with
    {
        Attempt = attempt,
        Signature = (by ?? signers[u.ClientId]).Sign(new UpdateStatement(spec.JobId, u.Round, attempt, (by ?? signers[u.ClientId]).ClientId, u.Update, u.SampleCount)),
    };

    [Fact]
    public void An_update_signed_by_the_enrolled_key_is_accepted_and_its_signature_journaled()
    {
        var f = Federation.InRound1(spec);
        var update = Signed(Update(1, "bob"));

        var d = f.Send(update);

        Assert.Equal(Outcome.Accepted, d.Outcome);
        var accepted = Assert.IsType<ClientUpdateAccepted>(Assert.Single(d.Events));
        Assert.Equal(update.Signature, accepted.Signature);
        Assert.Equal(1, accepted.Attempt);
    }

    [Fact]
    public void An_update_signed_with_another_key_is_refused_and_nothing_is_journaled()
    {
        var f = Federation.InRound1(spec);
        var journaled = f.Journal.Count;
        ClientKeyFiles.New(Path.Combine(dir.Path, "impostor"), "bob");
        using var impostor = ClientKeyFiles.Load(Path.Combine(dir.Path, "impostor"), "bob")!;

        var d = f.Send(Signed(Update(1, "bob"), impostor));

        Assert.Equal(Outcome.Rejected, d.Outcome);
        Assert.Contains("does not verify against the key job job-1 enrols for bob", d.Detail);
        Assert.Empty(d.Events);
        Assert.Equal(journaled, f.Journal.Count);
        Assert.Contains("bob", f.State.Waiting);
    }

    [Fact]
    public void A_client_cannot_submit_in_another_clients_name_with_its_own_key()
    {
        var f = Federation.InRound1(spec);
        var alicesKeyOnBobsUpdate = Update(1, "bob") with
        {
            Signature = signers["alice"].Sign(new UpdateStatement(spec.JobId, 1, 1, "alice", Rounds.Blobs.Update(1, "bob"), 100)),
        };

        Assert.Equal(Outcome.Rejected, f.Send(alicesKeyOnBobsUpdate).Outcome);
        Assert.Equal(Outcome.Rejected, f.Send(Update(1, "bob")).Outcome); // unsigned
        Assert.Equal(Outcome.Rejected, f.Send(Signed(Update(1, "bob")) with { SampleCount = 10_000 }).Outcome); // n_k inflated after signing
        Assert.DoesNotContain(f.Journal, e => e is ClientUpdateAccepted);
    }

    [Fact]
    public void An_update_signed_for_an_earlier_attempt_is_late_in_the_next_one()
    {
        var f = Federation.InRound1(spec with { MinUpdates = 3 });
        f.Now += spec.ClientTimeout;
        f.Given(new CloseTraining(1, 1)); // below quorum: attempt 2
        Assert.Equal(2, f.State.Attempt);

        Assert.Equal(Outcome.Late, f.Send(Signed(Update(1, "bob"), attempt: 1)).Outcome);
        Assert.Equal(Outcome.Accepted, f.Send(Signed(Update(1, "bob"), attempt: 2)).Outcome);
    }

    [Fact]
    public void A_spec_whose_keys_do_not_cover_its_clients_is_invalid()
    {
        var keys = spec.ClientKeys!.Where(k => k.Key != "carol").ToDictionary();

        var ex = Assert.Throws<ArgumentException>(() => (Specs.Default with { ClientKeys = keys }).Validate());

        Assert.Contains("ClientKeys", ex.Message);
    }
}
