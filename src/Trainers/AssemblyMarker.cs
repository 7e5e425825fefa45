namespace PostTrain.Trainers;
