namespace PostTrain.Sampling;
