namespace PostTrain.Pretrain;
