using Akka.Actor;
using FedCoLLM.Actors.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace FedCoLLM.Web;

/// <summary>What the HTTP port of a node serves from: its ActorSystem and the federation it hosts.</summary>
public sealed record NodeWebContext(ActorSystem System, FederationNode Node);

/// <summary>
/// The HTTP port of a node (<c>fedcollm.http.port</c>, or FEDCOLLM_HTTP_PORT): <c>/healthz/live</c>,
/// <c>/healthz/ready</c>, <c>/metrics</c> and the status page. It binds the remoting hostname, so a node in a pod or a
/// lab namespace serves on its own address.
/// </summary>
public static class NodeWebServer
{
    /// <summary>Starts the server when the configuration gives a port; null when it is off.</summary>
    public static async Task<WebApplication?> StartAsync(NodeWebContext context, CancellationToken cancellation = default)
    {
        var config = context.System.Settings.Config;
        var port = config.GetInt("fedcollm.http.port", 0);
        if (port <= 0) return null;
        var host = config.GetString("akka.remote.dot-netty.tcp.hostname", "127.0.0.1");
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://{(host.Contains(':') ? $"[{host}]" : host)}:{port}");
        var app = builder.Build();
        app.MapGet("/healthz/live", () => Results.Text("live\n"));
        app.MapStatusPage(context);
        await app.StartAsync(cancellation);
        return app;
    }
}
