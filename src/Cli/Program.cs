using PostTrain.Cli;

return await CliApp.RunAsync(args);
