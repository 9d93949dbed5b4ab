"""The analogue of GADN's Table 8: how often an *adversarial* classifier still names the
target artist of a transfer.

GADN (arXiv:1905.10742, Sec. 5.4 and Table 8) warns that a classifier trained on real images
only ("non-adversarial") names the target artist of 87 to 89% of its transfers, while one
trained also to reject the generator's outputs (NLU on them) names 2 to 14%: high accuracy of
a non-adversarial classifier does not mean the style was caught. Here the non-adversarial
classifier is the synthetic oracle; the adversarial one is a copy of it fine-tuned on real
training portraits (NLL of their artist) and on half of a method's transfers (NLU of their
target artist), then read on the other half.
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from animestyle.losses.classification import nlu
from animestyle.metrics.oracle import SyntheticOracle

__all__ = ["adversarial_accuracy"]


def adversarial_accuracy(
    oracle: SyntheticOracle,
    real: torch.Tensor,
    real_artist: torch.Tensor,
    fake: torch.Tensor,
    target: torch.Tensor,
    steps: int = 200,
    batch_size: int = 32,
    lr: float = 1e-4,
    seed: int = 0,
) -> float:
    """Fraction of the second half of ``fake`` in which an adversarially fine-tuned copy of
    the oracle's artist classifier names ``target``.

    Args:
        oracle: the synthetic oracle (its ``trunk`` and ``heads["artist"]``); left unchanged.
        real: training images (N, 3, S, S) in [-1, 1] and ``real_artist`` (N,) their artists.
        fake: a method's transfers (M, 3, S, S), M >= 2, and ``target`` (M,) their target artists;
            the first half trains the classifier (NLU), the second is scored.
        steps: Adam steps, each on ``batch_size`` real images and as many transfers.
        lr: Adam's learning rate.
        seed: the batches' random draws (the global stream is left as it was).

    Returns:
        The accuracy, in [0, 1].
    """
    if len(fake) < 2 or len(target) != len(fake) or len(real) != len(real_artist) or not len(real):
        raise ValueError(
            f"need real images with one artist each ({len(real)}, {len(real_artist)}) and at least 2 "
            f"transfers with one target each ({len(fake)}, {len(target)})"
        )
    half = len(fake) // 2
    classifier = copy.deepcopy(nn.Sequential(oracle.trunk, oracle.heads["artist"])).float().train()
    optimizer = torch.optim.Adam(classifier.parameters(), lr=lr)
    draws = torch.Generator().manual_seed(seed)
    device = next(classifier.parameters()).device
    for _ in tqdm(range(steps), desc="  adversarial classifier", leave=False):  # minutes at 64 px
        r = torch.randint(len(real), (batch_size,), generator=draws)
        f = torch.randint(half, (batch_size,), generator=draws)
        # one forward for both, so batch norm sees real and generated images together
        logits = classifier(torch.cat([real[r], fake[f]]).to(device))
        loss = F.cross_entropy(logits[:batch_size], real_artist[r].to(device)) + nlu(
            logits[batch_size:], target[f].to(device)
        )
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    classifier.eval()
    with torch.no_grad():
        named = classifier(fake[half:].to(device)).argmax(1).cpu()
    return float((named == target[half:]).float().mean())
