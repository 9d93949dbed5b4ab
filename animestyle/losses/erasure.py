"""Linear erasure of a label from a code: pull every class's mean code to the overall mean.

Belrose et al., "LEACE: Perfect linear concept erasure in closed form" (NeurIPS 2023,
Theorem 3.1): no linear classifier of a code does better than a constant one exactly when
every class-conditional mean of the code equals the overall mean. This loss measures how far
a batch is from that, in the units a linear probe reads (the code standardised per dimension).
"""

from __future__ import annotations

import torch

__all__ = ["class_mean_gap"]


def class_mean_gap(code: torch.Tensor, labels: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """The between-class variance of the standardised code: the squared distance of each
    class's mean code from the overall mean, weighted by the class's share of the batch and
    divided by the code width; 0 when the label cannot be read linearly.

    Squared means are estimated without the bias of small samples, as mean inner products over
    *pairs of different* codes (U-statistics): within each class, ``|m_a|^2``, and over the
    whole batch, ``|m|^2``; their weighted difference is ``sum_a p_a |m_a - m|^2``. (The plain
    squared mean of n codes adds their variance / n, whose gradient would shrink the code's
    within-class variance instead.) So one batch's value can be slightly negative; its
    expectation is not. Classes with one code in the batch are skipped.

    Args:
        code: (B, D) codes (e.g. the encoder's means).
        labels: (B,) int64 class of each code.

    Returns:
        scalar; 0 if no class has two codes in the batch.
    """
    code = code.float()
    # standardised by the batch's spread, held fixed: the gap is a share of each dimension's
    # variance, as a probe on standardised codes sees it
    z = code / (code.detach().std(0) + eps)
    classes, index, counts = torch.unique(labels, return_inverse=True, return_counts=True)
    keep = counts > 1
    if not keep.any():
        return z.new_zeros(())
    squares = z.square().sum(1)
    sums = z.new_zeros(len(classes), z.shape[1]).index_add_(0, index, z)
    class_squares = z.new_zeros(len(classes)).index_add_(0, index, squares)
    pairs = (counts * (counts - 1)).to(z.dtype)
    within = ((sums.square().sum(1) - class_squares) / pairs.clamp_min(1))[keep]
    weight = counts[keep].to(z.dtype) / counts[keep].sum()
    overall = (z.sum(0).square().sum() - squares.sum()) / (len(z) * (len(z) - 1))
    return ((within * weight).sum() - overall) / z.shape[1]
