import math

import pytest
import torch

from animestyle.losses import n_pair_loss, pairwise_margin_loss


def test_pairwise_margin_loss_on_known_pairs() -> None:
    distance = torch.tensor([0.25, 0.25, 0.4, 1.5])
    same = torch.tensor([1, 0, 0, 0])
    # similar: d = 0.25; dissimilar: max(0, 1 - d) = 0.75, 0.6, 0 (beyond the margin)
    assert pairwise_margin_loss(distance, same).item() == pytest.approx((0.25 + 0.75 + 0.6 + 0.0) / 4)
    assert pairwise_margin_loss(distance, same, margin=2.0).item() == pytest.approx((0.25 + 1.75 + 1.6 + 0.5) / 4)
    with pytest.raises(ValueError, match="one shape"):
        pairwise_margin_loss(distance, same[:3])


def test_n_pair_loss_on_known_embeddings() -> None:
    # orthonormal anchors, positives equal to them: similarity = identity
    anchors = torch.eye(3)
    t = 0.5
    # each row: logits (1/t, 0, 0) -> -log(e^(1/t) / (e^(1/t) + 2))
    want = -math.log(math.exp(1 / t) / (math.exp(1 / t) + 2))
    assert n_pair_loss(anchors, anchors * 4, temperature=t).item() == pytest.approx(want)  # scale-free
    swapped = anchors[[1, 0, 2]]  # rows 0 and 1 now point at the other's positive
    assert n_pair_loss(anchors, swapped, temperature=t).item() > want
    with pytest.raises(ValueError, match="temperature"):
        n_pair_loss(anchors, anchors, temperature=0)
    with pytest.raises(ValueError, match="one shape"):
        n_pair_loss(anchors, anchors[:2])
