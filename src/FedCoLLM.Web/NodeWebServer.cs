using Akka.Actor;
using FedCoLLM.Actors.Hosting;
using FedCoLLM.Actors.Telemetry;
using FedCoLLM.Web.Health;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;

namespace FedCoLLM.Web;

/// <summary>What the HTTP port of a node serves from: its ActorSystem and the federation it hosts.</summary>
public sealed record NodeWebContext(ActorSystem System, FederationNode Node);

/// <summary>
/// The HTTP port of a node (<c>fedcollm.http.port</c>, or FEDCOLLM_HTTP_PORT): <c>/healthz/live</c>,
/// <c>/healthz/ready</c>, <c>/metrics</c> and the status page. It binds the remoting hostname, so a node in a pod or a
/// lab namespace serves on its own address. docs/deploy.md, "Health, metrics and logs", documents every endpoint.
/// </summary>
public static class NodeWebServer
{
    /// <summary>Starts the server when the configuration gives a port; null when it is off.</summary>
    /// <param name="host">The address to bind instead of the remoting hostname (<c>fedcollm run</c>: loopback only).</param>
    public static async Task<WebApplication?> StartAsync(NodeWebContext context, CancellationToken cancellation = default, string? host = null)
    {
        var config = context.System.Settings.Config;
        var port = config.GetInt("fedcollm.http.port", 0);
        if (port <= 0) return null;
        host ??= config.GetString("akka.remote.dot-netty.tcp.hostname", "127.0.0.1");
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(new RefusedRequestLog(context.System.Log));
        builder.Logging.AddFilter<RefusedRequestLog>(RefusedRequestLog.Category, LogLevel.Debug);
        builder.WebHost.UseUrls($"http://{(host.Contains(':') ? $"[{host}]" : host)}:{port}");
        // The actors record into the "FedCoLLM" meter (FederationMetrics); OpenTelemetry reads it for /metrics.
        builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddMeter(FederationMetrics.MeterName)
            .AddPrometheusExporter());
        var app = builder.Build();
        FederationMetrics.TrackCluster(context.System);

        app.MapNodeHealth(context);
        app.MapPrometheusScrapingEndpoint("/metrics");
        app.MapStatusPage(context);
        await app.StartAsync(cancellation);
        return app;
    }
}
