using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using PostTrain.Studio.Hosting;
using PostTrain.Studio.Tests.Support;

namespace PostTrain.Studio.Tests;

public sealed class AccessTests
{
    [Theory]
    [InlineData("http://127.0.0.1:5080", true)]
    [InlineData("http://localhost:5080", true)]
    [InlineData("http://[::1]:5080", true)]
    [InlineData("http://0.0.0.0:5080", false)]
    [InlineData("http://*:5080", false)]
    [InlineData("http://+:5080", false)]
    [InlineData("http://[::]:5080", false)]
    [InlineData("http://192.168.1.10:5080", false)]
    [InlineData("http://studio.example:5080", false)]
    public void IsLoopbackUrl_Address_Classifies(string url, bool loopback) =>
        Assert.Equal(loopback, StudioAccess.IsLoopbackUrl(url));

    [Fact]
    public void ChooseToken_LoopbackOnly_NoToken() =>
        Assert.Null(StudioAccess.ChooseToken(["http://127.0.0.1:5080"], configured: null, require: false));

    [Fact]
    public void ChooseToken_AnyAddress_GeneratesAFreshToken()
    {
        var a = StudioAccess.ChooseToken(["http://127.0.0.1:5080", "http://0.0.0.0:5081"], configured: null, require: false);
        var b = StudioAccess.ChooseToken(["http://0.0.0.0:5081"], configured: null, require: false);
        Assert.NotNull(a);
        Assert.True(a!.Length >= 32);
        Assert.NotEqual(a, b);
    }

    [Fact]
    public async Task Request_StudioOnAllInterfacesWithoutToken_Returns401()
    {
        await using var studio = await TestStudio.StartAsync("http://0.0.0.0:0");
        Assert.NotNull(studio.Host.AccessToken);
        var response = await studio.Client.GetAsync("api/workflows");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("requires an access token", await response.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Unauthorized, (await studio.Client.GetAsync("")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await studio.Client.PutAsync("api/workflows/pair", JsonContent.Create(new { id = "pair" }))).StatusCode);
    }

    [Fact]
    public async Task Request_StudioOnAllInterfacesWithWrongToken_Returns401()
    {
        await using var studio = await TestStudio.StartAsync("http://0.0.0.0:0", token: "the-right-token-0123456789");
        using var client = studio.AuthorizedClient("a-wrong-token-0123456789");
        var response = await client.GetAsync("api/workflows");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("does not match", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Request_StudioOnAllInterfacesWithBearerToken_Succeeds()
    {
        await using var studio = await TestStudio.StartAsync("http://0.0.0.0:0");
        using var client = studio.AuthorizedClient(studio.Host.AccessToken!);
        var list = await client.GetFromJsonAsync<JsonArray>("api/workflows");
        Assert.Equal(2, list!.Count);
    }

    [Fact]
    public async Task Request_QueryTokenOnce_SetsCookieThatAuthorizesLaterRequests()
    {
        await using var studio = await TestStudio.StartAsync("http://0.0.0.0:0");
        var cookies = new CookieContainer();
        using var client = new HttpClient(new HttpClientHandler { CookieContainer = cookies }) { BaseAddress = studio.BaseAddress };
        var first = await client.GetAsync($"?token={Uri.EscapeDataString(studio.Host.AccessToken!)}");
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var later = await client.GetAsync("api/workflows");
        Assert.Equal(HttpStatusCode.OK, later.StatusCode);
    }

    [Fact]
    public async Task Request_LoopbackStudio_NeedsNoToken()
    {
        await using var studio = await TestStudio.StartAsync();
        Assert.Null(studio.Host.AccessToken);
        Assert.Equal(HttpStatusCode.OK, (await studio.Client.GetAsync("api/workflows")).StatusCode);
    }

    [Fact]
    public async Task Post_CrossOriginCancel_Returns403()
    {
        await using var studio = await TestStudio.StartAsync();
        var request = new HttpRequestMessage(HttpMethod.Post, $"api/runs/{Guid.NewGuid()}/cancel");
        request.Headers.Add("Origin", "http://evil.example");
        Assert.Equal(HttpStatusCode.Forbidden, (await studio.Client.SendAsync(request)).StatusCode);

        var same = new HttpRequestMessage(HttpMethod.Post, $"api/runs/{Guid.NewGuid()}/cancel");
        same.Headers.Add("Origin", studio.BaseAddress.GetLeftPart(UriPartial.Authority));
        Assert.Equal(HttpStatusCode.NotFound, (await studio.Client.SendAsync(same)).StatusCode);
    }
}
