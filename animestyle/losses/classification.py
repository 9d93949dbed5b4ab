"""Classification losses of GADN's adversarial classifiers (arXiv:1905.10742, Sec. 4.2)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["capped_log_likelihood", "nlu"]


def nlu(logits: torch.Tensor, target: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """Negative log-unlikelihood ``-log(1 - p(target | x) + eps)``, averaged: low when the
    classifier says the image is *not* of class ``target``.

    Args:
        logits: (B, K).
        target: (B,) int64.
    """
    p = F.softmax(logits.float(), dim=1).gather(1, target[:, None]).squeeze(1)
    return -torch.log1p(-p + eps).mean()


def capped_log_likelihood(logits: torch.Tensor, target: torch.Tensor, log_prior: torch.Tensor) -> torch.Tensor:
    """``mean(max(log p(target | x), log prior(target)))``: the adversarial term of the
    GADN code's stage 1, which pushes the classifier's belief in the source artist down to
    the class prior and no further (the paper minimises ``log p`` without a floor).

    Args:
        logits: (B, K).
        target: (B,) int64.
        log_prior: (K,) log class frequencies.
    """
    log_p = F.log_softmax(logits.float(), dim=1).gather(1, target[:, None]).squeeze(1)
    return torch.maximum(log_p, log_prior[target]).mean()
