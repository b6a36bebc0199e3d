using Akka.Actor;
using FedCoLLM.Actors.Protocol;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using FedCoLLM.Web.Status;

// In the server's namespace (not Status/'s), so NodeWebServer maps the page with one call and no using.
namespace FedCoLLM.Web;

/// <summary>
/// The read-only status page of a node: <c>/</c> (a static page whose script polls the API every two seconds and draws
/// its plots as inline SVG), <c>/status/*</c> (its script and style) and the JSON API <c>/api/jobs</c> and
/// <c>/api/jobs/{id}</c>. Only GET routes exist, so nothing here can change a job.
/// </summary>
public static class StatusPage
{
    /// <summary>The page forbids every script and style but its own files: a job or client id that holds markup
    /// cannot run even if some rendering path forgot to escape it.</summary>
    const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    public static WebApplication MapStatusPage(this WebApplication app, NodeWebContext context)
    {
        var source = new StatusSource(context);
        app.MapGet("/", () => Asset("index.html"));
        app.MapGet("/status/{file}", (string file) => Asset(file));
        app.MapGet("/api/jobs", async (CancellationToken cancellation) =>
        {
            IReadOnlyList<JobEntry> entries;
            try { entries = await source.Jobs(cancellation); }
            catch (AskTimeoutException) { return DirectoryUnavailable(); }
            var statuses = await Task.WhenAll(entries.Select(e => source.Status(e.JobId, cancellation)));
            var jobs = entries.Select((e, i) => JobViews.Summary(e, statuses[i])).ToList();
            return Json(new JobListView(source.Node(), jobs, DateTimeOffset.UtcNow), StatusJson.Default.JobListView);
        });
        app.MapGet("/api/jobs/{id}", async (string id, CancellationToken cancellation) =>
        {
            IReadOnlyList<JobEntry> entries;
            try { entries = await source.Jobs(cancellation); }
            catch (AskTimeoutException) { return DirectoryUnavailable(); }
            // Only listed jobs are asked: asking the shard region for any other id would start (and remember) an
            // entity for it, so a mistyped URL would leave a job entity behind.
            if (entries.FirstOrDefault(e => e.JobId == id) is not { } entry)
                return Json(new ApiError($"no job \"{id}\" in this cluster"), StatusJson.Default.ApiError, StatusCodes.Status404NotFound);
            var status = await source.Status(id, cancellation);
            var detail = status is null ? null : JobViews.Detail(entry, status, DateTimeOffset.UtcNow);
            return detail is null
                ? Json(new ApiError($"job \"{id}\" did not answer; its entity may be starting or moving to another node"), StatusJson.Default.ApiError, StatusCodes.Status503ServiceUnavailable)
                : Json(detail, StatusJson.Default.JobDetailView);
        });
        return app;
    }

    static IResult DirectoryUnavailable() =>
        Json(new ApiError("the job directory did not answer; the cluster may still be forming"), StatusJson.Default.ApiError, StatusCodes.Status503ServiceUnavailable);

    static IResult Json<T>(T value, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type, int status = StatusCodes.Status200OK) =>
        new NoStore(Results.Json(value, type, statusCode: status));

    static IResult Asset(string file) =>
        StatusAssets.All.TryGetValue(file, out var asset) ? new NoStore(Results.Bytes(asset.Content, asset.ContentType)) : Results.NotFound();

    /// <summary>Adds the page's headers: never cached (the page is live, and a node upgraded in place must not serve
    /// yesterday's script), never sniffed, framed or allowed foreign content.</summary>
    sealed class NoStore(IResult inner) : IResult
    {
        public Task ExecuteAsync(HttpContext http)
        {
            var headers = http.Response.Headers;
            headers.CacheControl = "no-store";
            headers.XContentTypeOptions = "nosniff";
            headers.ContentSecurityPolicy = ContentSecurityPolicy;
            headers["Referrer-Policy"] = "no-referrer";
            return inner.ExecuteAsync(http);
        }
    }
}
