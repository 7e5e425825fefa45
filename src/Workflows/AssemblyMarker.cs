namespace PostTrain.Workflows;
