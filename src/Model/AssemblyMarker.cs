namespace PostTrain.Model;
