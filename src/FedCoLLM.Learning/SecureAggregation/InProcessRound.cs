using System.Diagnostics;

namespace FedCoLLM.Learning.SecureAggregation;

/// <summary>
/// Runs one whole round of the protocol in one process: the K clients' and the server's step functions, every
/// message passed through its byte form (<see cref="SecAggWire"/>) as it would travel as a blob. Clients listed in
/// <paramref name="dropAt"/> go silent from that step on. It records each client's upload and download bytes, the
/// time clients and server spend per step, and the masked inputs the server saw. The benchmark and the tests use it;
/// the federation runs the same step functions from its actors.
/// </summary>
public static class InProcessRound
{
    public sealed record Result(
        SecAggSum Sum,
        IReadOnlyList<MaskedInput> ServerSawMaskedInputs,
        IReadOnlyDictionary<int, long> UploadBytes,
        IReadOnlyDictionary<int, long> DownloadBytes,
        IReadOnlyList<double> ClientSecondsPerStep,
        IReadOnlyList<double> ServerSecondsPerStep);

    public static Result Run(SecAggParameters p, IReadOnlyList<ClientSecrets> clients, IReadOnlyList<uint[]> inputs,
        IReadOnlyDictionary<int, SecAggStep>? dropAt = null)
    {
        if (clients.Count != inputs.Count) throw new ArgumentException("One input per client.");
        dropAt ??= new Dictionary<int, SecAggStep>();
        bool Active(ClientSecrets c, SecAggStep step) => !dropAt.TryGetValue(c.Client, out var s) || s > step;
        var up = clients.ToDictionary(c => c.Client, _ => 0L);
        var down = clients.ToDictionary(c => c.Client, _ => 0L);
        var clientSeconds = new double[4];
        var serverSeconds = new double[4];
        var sw = new Stopwatch();

        // Step 0: advertise keys.
        var adverts = new List<KeyAdvertisement>();
        foreach (var c in clients.Where(c => Active(c, SecAggStep.AdvertiseKeys)))
        {
            sw.Restart();
            var bytes = SecAggWire.Write(SecAggClient.AdvertiseKeys(p, c));
            clientSeconds[0] += sw.Elapsed.TotalSeconds;
            up[c.Client] += bytes.Length;
            adverts.Add(SecAggWire.ReadAdvertisement(bytes));
        }
        sw.Restart();
        var roster = SecAggServer.CollectKeys(p, adverts);
        var rosterBytes = SecAggWire.Write(roster);
        serverSeconds[0] = sw.Elapsed.TotalSeconds;

        // Step 1: share keys.
        var bundles = new List<ShareBundle>();
        foreach (var c in clients.Where(c => roster.Contains(c.Client) && Active(c, SecAggStep.ShareKeys)))
        {
            down[c.Client] += rosterBytes.Length;
            sw.Restart();
            var bytes = SecAggWire.Write(SecAggClient.ShareKeys(p, c, SecAggWire.ReadRoster(rosterBytes)));
            clientSeconds[1] += sw.Elapsed.TotalSeconds;
            up[c.Client] += bytes.Length;
            bundles.Add(SecAggWire.ReadBundle(bytes));
        }
        sw.Restart();
        var routing = SecAggServer.RouteShares(p, roster, bundles);
        var forwarded = routing.Senders.ToDictionary(v => v, v => SecAggWire.Write(routing.For(v)));
        serverSeconds[1] = sw.Elapsed.TotalSeconds;

        // Step 2: masked inputs.
        var masked = new List<MaskedInput>();
        var received = new Dictionary<int, IReadOnlyList<EncryptedShare>>();
        foreach (var c in clients.Where(c => forwarded.ContainsKey(c.Client) && Active(c, SecAggStep.MaskedInput)))
        {
            down[c.Client] += forwarded[c.Client].Length;
            sw.Restart();
            received[c.Client] = SecAggWire.ReadShares(forwarded[c.Client]);
            int index = clients.ToList().IndexOf(c);
            var bytes = SecAggWire.Write(SecAggClient.MaskInput(p, c, SecAggWire.ReadRoster(rosterBytes), received[c.Client], inputs[index]));
            clientSeconds[2] += sw.Elapsed.TotalSeconds;
            up[c.Client] += bytes.Length;
            masked.Add(SecAggWire.ReadMaskedInput(bytes));
        }
        sw.Restart();
        var request = SecAggServer.CollectMaskedInputs(p, routing, masked);
        var requestBytes = SecAggWire.Write(request);
        serverSeconds[2] = sw.Elapsed.TotalSeconds;

        // Step 3: unmasking.
        var responses = new List<UnmaskResponse>();
        foreach (var c in clients.Where(c => request.Survivors.Contains(c.Client) && Active(c, SecAggStep.Unmasking)))
        {
            down[c.Client] += requestBytes.Length;
            sw.Restart();
            var bytes = SecAggWire.Write(SecAggClient.Unmask(p, c, SecAggWire.ReadRoster(rosterBytes), received[c.Client], SecAggWire.ReadUnmaskRequest(requestBytes)));
            clientSeconds[3] += sw.Elapsed.TotalSeconds;
            up[c.Client] += bytes.Length;
            responses.Add(SecAggWire.ReadUnmaskResponse(bytes));
        }
        sw.Restart();
        var sum = SecAggServer.Unmask(p, roster, request, masked, responses);
        serverSeconds[3] = sw.Elapsed.TotalSeconds;

        return new Result(sum, masked, up, down, clientSeconds, serverSeconds);
    }
}
