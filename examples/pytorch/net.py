"""The PyTorch demo model: a small CNN for the 28×28 MNIST digits, NCHW input [n, 1, 28, 28].

    losscape hessian --model examples/pytorch/net.py:SmallCNN --weights examples/pytorch/generated/cnn.pt ...
"""
import torch
from torch import nn


class SmallCNN(nn.Module):
    def __init__(self, channels=8, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(1, channels, 3)            # 28 → 26, pooled to 13
        self.conv2 = nn.Conv2d(channels, 2 * channels, 3)  # 13 → 11, pooled to 5
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(2 * channels * 5 * 5, classes)

    def forward(self, x):
        h = self.pool(torch.relu(self.conv1(x)))
        h = self.pool(torch.relu(self.conv2(h)))
        return self.fc(h.flatten(1))  # logits: CrossEntropyLoss


def small_cnn(channels=8):
    """A factory, for --model net.py:small_cnn --model-args '{"channels": 8}'."""
    return SmallCNN(channels=channels)
