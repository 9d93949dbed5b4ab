"""Pair losses of conditional adversarial style transfer (Deelaka, approaches 1 and 2).

- :func:`pairwise_margin_loss`: the siamese style discriminator's loss, ``y d + (1 - y)
  max(0, m - d)`` with ``d`` the squared distance of two embeddings and ``y`` 1 for a pair by
  the same artist (approach 1; approach 2's content encoder uses it on cosine distances).
- :func:`n_pair_loss`: approach 2's style loss, a softmax cross-entropy over the similarity
  matrix of two batches of L2-normalised embeddings divided by a temperature: row ``i`` must
  pick column ``i``, its positive, among every other row's positive.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["n_pair_loss", "pairwise_margin_loss"]


def pairwise_margin_loss(distance: torch.Tensor, same: torch.Tensor, margin: float = 1.0) -> torch.Tensor:
    """Mean of ``same * d + (1 - same) * max(0, margin - d)`` over pairs.

    Args:
        distance: (N,) distances ``d`` of N pairs (squared Euclidean, or cosine distance).
        same: (N,) 1 (or True) for a similar pair, 0 for a dissimilar one.
        margin: ``m``: dissimilar pairs farther apart than this cost nothing.
    """
    if distance.shape != same.shape or distance.ndim != 1:
        raise ValueError(
            f"distance and same must be (N,) of one shape; got {tuple(distance.shape)}, {tuple(same.shape)}"
        )
    y = same.to(torch.float32)
    d = distance.float()
    return (y * d + (1 - y) * (margin - d).clamp_min(0)).mean()


def n_pair_loss(
    anchors: torch.Tensor,
    positives: torch.Tensor,
    temperature: float = 0.2,
    labels: torch.Tensor | None = None,
    negatives: torch.Tensor | None = None,
) -> torch.Tensor:
    """Cross-entropy of ``softmax(normalise(anchors) @ normalise(positives).T / temperature)``
    with the diagonal as the targets.

    Args:
        anchors: (N, D) embeddings.
        positives: (N, D) embeddings; row ``i`` is the positive of anchor ``i`` (by the same
            artist) and a negative of every other anchor (by other artists).
        temperature: divides the cosine similarities (the author's code: 0.2).
        labels: (N,) artist of each row, or None when all differ. A batch drawn at random
            holds several images by one artist: column ``j != i`` with the label of row ``i``
            is then another positive, not a negative, and is left out of row ``i``'s softmax.
        negatives: (M, D) further embeddings that are a negative of every anchor (e.g.
            generated images, which no real anchor should pick), appended as columns.
    """
    if anchors.shape != positives.shape or anchors.ndim != 2:
        raise ValueError(
            f"anchors and positives must be (N, D) of one shape; got {tuple(anchors.shape)}, {tuple(positives.shape)}"
        )
    if temperature <= 0:
        raise ValueError(f"temperature={temperature} must be > 0")
    if negatives is not None and (negatives.ndim != 2 or negatives.shape[1] != anchors.shape[1]):
        raise ValueError(f"negatives must be (M, {anchors.shape[1]}); got {tuple(negatives.shape)}")
    columns = positives if negatives is None else torch.cat([positives, negatives.to(positives.dtype)])
    logits = F.normalize(anchors.float(), dim=1) @ F.normalize(columns.float(), dim=1).T / temperature
    n = len(anchors)
    if labels is not None:
        if labels.shape != (n,):
            raise ValueError(f"labels must be ({n},); got {tuple(labels.shape)}")
        other_positive = (labels[:, None] == labels[None, :]) & ~torch.eye(n, dtype=torch.bool, device=labels.device)
        mask = F.pad(other_positive, (0, len(columns) - n))  # never mask the appended negatives
        logits = logits.masked_fill(mask, float("-inf"))
    return F.cross_entropy(logits, torch.arange(n, device=anchors.device))
