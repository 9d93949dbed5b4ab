"""Metric learning for style (the style-space paper, Sec. 3, eq. 1-3).

Images by the same artist are pulled together, images by different artists pushed apart,
and every image is also pulled to its artist's learned representative style and pushed from
the others'. With nested dropout, the distance from image ``i`` is measured in the first
``b_i`` dimensions only, times the learned scale ``s_{b_i}``; the representatives are cut and
scaled the same way (eq. 3: "the same value for b and s").

The paper's pair losses: ``L_s(d) = d^2`` for a similar pair and ``L_d(d) = max(0, m - d)^2``
for a dissimilar one, with margin ``m = 1``. The paper sums over pairs; we average each of
the four terms over its pairs, so that neither the batch size nor the number of artists
changes the balance between them.
"""

from __future__ import annotations

import torch

from animestyle.nn.nested_dropout import prefix_mask

__all__ = ["contrastive_loss", "prefix_distances"]


def prefix_distances(
    codes: torch.Tensor, others: torch.Tensor, kept: torch.Tensor, scale: torch.Tensor | None = None
) -> torch.Tensor:
    """Euclidean distances from each code to each of ``others`` in the code's first ``kept``
    dimensions, times its scale.

    Args:
        codes: (B, D).
        others: (M, D): other images' codes, or the artists' representative styles.
        kept: (B,) int64 in [1, D]: dimensions kept for each row of ``codes``.
        scale: (B,) or None: the learned scale ``s_b`` of each row's cut-off.

    Returns:
        (B, M) distances, >= 0, differentiable everywhere (a zero distance has zero gradient).
    """
    mask = prefix_mask(kept, codes.shape[1]).to(codes.dtype)
    difference = (codes.unsqueeze(1) - others.unsqueeze(0)) * mask.unsqueeze(1)  # (B, M, D)
    squared = difference.square().sum(-1)
    # sqrt has an infinite gradient at 0 (an image compared with itself): guard it.
    distance = torch.where(squared > 0, squared.clamp_min(1e-12).sqrt(), torch.zeros_like(squared))
    return distance if scale is None else distance * scale.unsqueeze(1)


def contrastive_loss(
    distance: torch.Tensor, same: torch.Tensor, margin: float = 1.0, ignore: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """The pull ``mean d^2`` over similar pairs and the push ``mean max(0, margin - d)^2``
    over dissimilar pairs (eq. 1).

    Args:
        distance: (B, M) distances.
        same: (B, M) bool: True where the pair shares an artist.
        margin: ``m``, the distance beyond which dissimilar pairs cost nothing.
        ignore: (B, M) bool or None: pairs left out of both means (an image with itself).

    Returns:
        ``(pull, push)``, scalars; 0 where a kind of pair is absent.
    """
    counted = torch.ones_like(same) if ignore is None else ~ignore
    similar, dissimilar = (same & counted).to(distance.dtype), (~same & counted).to(distance.dtype)
    pull = (distance.square() * similar).sum() / similar.sum().clamp_min(1)
    push = ((margin - distance).clamp_min(0).square() * dissimilar).sum() / dissimilar.sum().clamp_min(1)
    return pull, push
