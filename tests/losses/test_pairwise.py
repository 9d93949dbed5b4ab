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


def test_n_pair_loss_leaves_same_artist_columns_out_and_appends_negatives() -> None:
    t = 0.5
    anchors = torch.eye(3)
    positives = torch.eye(3)
    positives[1] = positives[0]  # rows 0 and 1 by one artist: column 1 is row 0's other positive
    labels = torch.tensor([0, 0, 1])
    e = math.exp(1 / t)
    # row 0: logits (1/t, 1/t, 0): its other positive competes, -log(e / (2e + 1)); with labels
    # column 1 is left out, -log(e / (e + 1)). Row 1 (anchor e_1) is orthogonal to every column:
    # -log(1/3), with labels -log(1/2). Row 2: logits (0, 0, 1/t) either way.
    unlabelled = -math.log(e / (2 * e + 1)) - math.log(1 / 3) - math.log(e / (e + 2))
    labelled = -math.log(e / (e + 1)) - math.log(1 / 2) - math.log(e / (e + 2))
    assert n_pair_loss(anchors, positives, t).item() == pytest.approx(unlabelled / 3)
    assert n_pair_loss(anchors, positives, t, labels=labels).item() == pytest.approx(labelled / 3)
    # an appended negative equal to anchor 2: one more column of logit 0 for rows 0 and 1,
    # and for row 2 a rival of its positive, -log(e / (2e + 2))
    negatives = torch.tensor([[0.0, 0.0, 1.0]])
    want = (-2 * math.log(e / (e + 3)) - math.log(e / (2 * e + 2))) / 3
    assert n_pair_loss(anchors, anchors, t, negatives=negatives).item() == pytest.approx(want)
    with pytest.raises(ValueError, match="labels"):
        n_pair_loss(anchors, anchors, t, labels=labels[:2])
