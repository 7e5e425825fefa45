namespace PostTrain.RewardModel;
