using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace FedCoLLM.Web.Health;

/// <summary>
/// <c>/healthz/live</c>: 200 while the process serves HTTP (a liveness probe restarts only a hung process).
/// <c>/healthz/ready</c>: 200 when every <see cref="NodeReadiness"/> check passes, else 503; either way a small JSON
/// body names each check, and <c>failed</c> lists those that did not pass.
/// </summary>
public static class HealthEndpoints
{
    public static void MapNodeHealth(this IEndpointRouteBuilder app, NodeWebContext context)
    {
        var readiness = new NodeReadiness(context);
        app.MapGet("/healthz/live", () => Results.Text("live\n"));
        app.MapGet("/healthz/ready", async () =>
        {
            var report = await readiness.CheckAsync();
            var body = new Dictionary<string, object>
            {
                ["status"] = report.Ready ? "ready" : "not ready",
                ["failed"] = report.Checks.Where(c => !c.Ok).Select(c => c.Name).ToArray(),
                ["checks"] = report.Checks.ToDictionary(c => c.Name, c => new { ok = c.Ok, detail = c.Detail }),
            };
            return Results.Json(body, statusCode: report.Ready ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable);
        });
    }
}
