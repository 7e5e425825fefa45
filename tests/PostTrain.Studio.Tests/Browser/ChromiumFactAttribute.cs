namespace PostTrain.Studio.Tests.Browser;

/// <summary>A browser test: skipped, saying why, when Debian's chromium is not installed at <see cref="StudioBrowser.ChromiumPath"/>.</summary>
public sealed class ChromiumFactAttribute : FactAttribute
{
    public ChromiumFactAttribute()
    {
        if (!File.Exists(StudioBrowser.ChromiumPath))
            Skip = $"browser tests need chromium at {StudioBrowser.ChromiumPath} (apt-get install chromium); it is not installed";
    }
}
