"""A custom loss in a Python file, as users write them (Lin et al. 2017, focal loss):
FL = −(1 − p_t)^γ log p_t on the logits. `reduction='none'` gives per-sample values, which
Losscape uses for the Fisher and per-sample gradients.

    losscape landscape ... --loss-module examples/pytorch/focal_loss.py:FocalLoss
"""
import torch.nn.functional as F
from torch import nn


class FocalLoss(nn.Module):
    def __init__(self, gamma=2.0, reduction="mean"):
        super().__init__()
        self.gamma = gamma
        self.reduction = reduction

    def forward(self, logits, target):
        logp = F.log_softmax(logits, dim=-1).gather(1, target.long().reshape(-1, 1)).reshape(-1)
        loss = -((1 - logp.exp()) ** self.gamma) * logp
        return loss if self.reduction == "none" else loss.mean()


def focal_loss(logits, target, gamma=2.0):
    return FocalLoss(gamma)(logits, target)
