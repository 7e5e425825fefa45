using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace PostTrain.Studio.Hosting;

/// <summary>
/// Who may talk to the studio. On loopback (the default) anyone on this machine, but only under a loopback Host
/// header (a web page elsewhere cannot reach it through DNS rebinding). Bound to any other address, every request
/// needs the access token: <c>Authorization: Bearer TOKEN</c>, <c>X-PostTrain-Token: TOKEN</c>, or the cookie the
/// studio sets when the page is opened once as <c>/?token=TOKEN</c> (EventSource cannot send headers). Either way a
/// state-changing request from another origin (Origin / Sec-Fetch-Site) is refused.
/// </summary>
public sealed class StudioAccess
{
    public const string CookieName = "posttrain_token";
    public const string HeaderName = "X-PostTrain-Token";

    private readonly byte[]? _token;

    public StudioAccess(string? token)
    {
        Token = token;
        _token = token is null ? null : Encoding.UTF8.GetBytes(token);
    }

    /// <summary>Null = no token needed (loopback only).</summary>
    public string? Token { get; }

    /// <summary>The token to use for <paramref name="urls"/>: the configured one, else a fresh one if any address is not loopback.</summary>
    public static string? ChooseToken(IEnumerable<string> urls, string? configured, bool require)
    {
        if (!string.IsNullOrEmpty(configured)) return configured;
        if (!require && urls.All(IsLoopbackUrl)) return null;
        return Convert.ToBase64String(RandomNumberGenerator.GetBytes(24)).Replace('+', '-').Replace('/', '_');
    }

    /// <summary>True for localhost, 127.0.0.0/8 and ::1; false for wildcards (*, +, 0.0.0.0, [::]) and any other host.</summary>
    public static bool IsLoopbackUrl(string url)
    {
        if (!Uri.TryCreate(url.Replace("://*", "://wildcard.invalid").Replace("://+", "://wildcard.invalid"), UriKind.Absolute, out var uri)) return false;
        return IsLoopbackHost(uri.Host);
    }

    public static bool IsLoopbackHost(string host)
    {
        host = host.Trim('[', ']');
        if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase)) return true;
        return IPAddress.TryParse(host, out var ip) && IPAddress.IsLoopback(ip);
    }

    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        // A page on another site may send simple POSTs (no preflight) to a loopback port; refuse state changes it did not originate.
        if (!HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsHead(context.Request.Method) && IsCrossOrigin(context.Request))
        {
            await Deny(context, StatusCodes.Status403Forbidden, $"cross-origin {context.Request.Method} from '{context.Request.Headers.Origin}' refused").ConfigureAwait(false);
            return;
        }
        if (_token is null)
        {
            if (!IsLoopbackHost(context.Request.Host.Host))
            {
                await Deny(context, StatusCodes.Status403Forbidden, $"Host '{context.Request.Host}' is not a loopback name; the studio answers loopback requests only unless it runs with an access token").ConfigureAwait(false);
                return;
            }
            await next(context).ConfigureAwait(false);
            return;
        }
        var query = context.Request.Query["token"].ToString();
        if (query.Length > 0 && Matches(query))
        {
            // Opened as /?token=...: keep it in a cookie so the page's fetch and EventSource calls carry it.
            context.Response.Cookies.Append(CookieName, query, new CookieOptions { HttpOnly = true, SameSite = SameSiteMode.Strict, Secure = context.Request.IsHttps, Path = "/" });
            await next(context).ConfigureAwait(false);
            return;
        }
        var presented = context.Request.Headers.Authorization.ToString() is { } auth && auth.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)
            ? auth["Bearer ".Length..].Trim()
            : context.Request.Headers[HeaderName].ToString() is { Length: > 0 } h ? h
            : context.Request.Cookies[CookieName];
        if (presented is null || !Matches(presented))
        {
            context.Response.Headers.WWWAuthenticate = "Bearer realm=\"posttrain-studio\"";
            await Deny(context, StatusCodes.Status401Unauthorized, presented is null
                ? "this studio requires an access token: send 'Authorization: Bearer TOKEN' or open /?token=TOKEN once (the token was printed when the studio started)"
                : "the access token does not match").ConfigureAwait(false);
            return;
        }
        await next(context).ConfigureAwait(false);
    }

    private static bool IsCrossOrigin(HttpRequest request)
    {
        if (request.Headers["Sec-Fetch-Site"].ToString() is "cross-site") return true;
        var origin = request.Headers.Origin.ToString();
        if (origin.Length == 0) return false;
        return !Uri.TryCreate(origin, UriKind.Absolute, out var o) || !string.Equals(o.Authority, request.Host.Value, StringComparison.OrdinalIgnoreCase);
    }

    private bool Matches(string presented) =>
        CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(presented), _token!);

    private static Task Deny(HttpContext context, int status, string reason)
    {
        context.Response.StatusCode = status;
        return context.Response.WriteAsJsonAsync(new Api.ErrorResponse(reason));
    }
}
