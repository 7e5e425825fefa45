using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using PostTrain.Engine.Hosting;
using PostTrain.Engine.Store;
using PostTrain.Studio.Tests.Support;

namespace PostTrain.Studio.Tests;

/// <summary>The API a studio serves to the other commands on its home: HOME/owner.json, loopback, a token on every request.</summary>
public sealed class OwnerApiTests
{
    [Fact]
    public async Task Studio_ServesOwnerApi_WithTokenOnly_SubmitsByPath_AndRemovesOwnerFileOnStop()
    {
        var studio = await TestStudio.StartAsync();
        var home = new PostTrainHome(Path.Combine(studio.Root, "home"));
        bool ownerFileLeft;
        try
        {
            var info = OwnerFile.Find(home);
            Assert.NotNull(info);
            Assert.Equal(Environment.ProcessId, info.Pid);
            Assert.StartsWith("http://127.0.0.1:", info.Url);

            using var anonymous = new HttpClient { BaseAddress = new Uri(info.Url + "/") };
            Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("api/owner")).StatusCode);
            anonymous.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "not-the-token");
            Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("api/runs")).StatusCode);

            using var client = new HttpClient { BaseAddress = new Uri(info.Url + "/") };
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", info.Token);
            Assert.Equal("studio", (string?)JsonNode.Parse(await client.GetStringAsync("api/owner"))!["purpose"]);

            var relative = await client.PostAsJsonAsync("api/owner/runs", new { path = "pair.json" });
            Assert.Equal(HttpStatusCode.BadRequest, relative.StatusCode);
            var bad = await client.PostAsJsonAsync("api/owner/runs", new { path = studio.PathOf("pair"), parameters = new Dictionary<string, string> { ["nosuch"] = "1" } });
            Assert.Equal(HttpStatusCode.UnprocessableEntity, bad.StatusCode);
            Assert.Contains("nosuch", await bad.Content.ReadAsStringAsync());

            var created = await client.PostAsJsonAsync("api/owner/runs", new { path = studio.PathOf("pair"), seed = 3 });
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            var id = (string)JsonNode.Parse(await created.Content.ReadAsStringAsync())!["id"]!;
            JsonNode snapshot;
            var deadline = DateTime.UtcNow.AddSeconds(60);
            do
            {
                snapshot = JsonNode.Parse(await client.GetStringAsync($"api/runs/{id}/snapshot"))!;
                if ((string?)snapshot["state"] == "Succeeded") break;
                await Task.Delay(100);
            } while (DateTime.UtcNow < deadline);
            Assert.Equal("Succeeded", (string?)snapshot["state"]);
            Assert.Equal(2, snapshot["steps"]!.AsArray().Count);

            // The same run through the studio's own API and in the owner's records.
            Assert.Contains(JsonNode.Parse(await studio.Client.GetStringAsync("api/runs"))!.AsArray(), r => (string?)r!["id"] == id);
            var records = JsonNode.Parse(await client.GetStringAsync($"api/runs/{id}/records"))!;
            Assert.Equal(3, (long)records["run"]!["seed"]!);
            Assert.Equal(2, records["steps"]!.AsArray().Count);
            Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"api/runs/{Guid.NewGuid()}/snapshot")).StatusCode);
        }
        finally
        {
            await studio.Host.DisposeAsync();
            ownerFileLeft = File.Exists(OwnerFile.PathOf(home));
            await studio.DisposeAsync();
        }
        Assert.False(ownerFileLeft, "owner.json must go when the studio stops");
    }
}
