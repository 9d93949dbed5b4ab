"""The style-space paper's losses on inputs whose values are worked out by hand: prefix
distances, the contrastive pull and push, and the standard GAN losses on logits."""

from __future__ import annotations

import math

import pytest
import torch

from animestyle.losses import contrastive_loss, gan_discriminator, gan_generator, prefix_distances

# --- prefix_distances ----------------------------------------------------------------------


def test_prefix_distances_measure_in_each_rows_first_dimensions() -> None:
    codes = torch.tensor([[0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [1.0, 1.0, 1.0]])
    others = torch.tensor([[3.0, 4.0, 12.0], [1.0, 1.0, 1.0]])
    kept = torch.tensor([1, 2, 3])
    d = prefix_distances(codes, others, kept)
    assert d.shape == (3, 2)
    expected = torch.tensor(
        [
            [3.0, 1.0],  # first dimension only: |0 - 3|, |0 - 1|
            [5.0, math.sqrt(2)],  # first two: sqrt(9 + 16), sqrt(1 + 1)
            [math.sqrt(4 + 9 + 121), 0.0],  # all three; the second is the same point
        ]
    )
    torch.testing.assert_close(d, expected)


def test_prefix_distances_ignore_the_dimensions_after_the_prefix() -> None:
    a = torch.tensor([[1.0, 2.0, 100.0, -50.0]])
    b = torch.tensor([[1.0, 2.0, -7.0, 3.0]])
    assert prefix_distances(a, b, torch.tensor([2])).item() == 0.0
    assert prefix_distances(a, b, torch.tensor([3])).item() == pytest.approx(107.0)
    # which row's prefix counts: the row of ``codes``, not of ``others``
    d = prefix_distances(torch.cat([a, a]), torch.cat([b, b]), torch.tensor([2, 3]))
    torch.testing.assert_close(d, torch.tensor([[0.0, 0.0], [107.0, 107.0]]))


def test_prefix_distances_multiply_each_row_by_its_scale() -> None:
    codes = torch.tensor([[0.0, 0.0], [0.0, 0.0]])
    others = torch.tensor([[3.0, 4.0]])
    d = prefix_distances(codes, others, torch.tensor([1, 2]), scale=torch.tensor([2.0, 0.5]))
    torch.testing.assert_close(d, torch.tensor([[6.0], [2.5]]))


def test_prefix_distance_of_a_point_to_itself_has_a_zero_finite_gradient() -> None:
    codes = torch.tensor([[0.3, -1.2, 2.0], [1.0, 1.0, 1.0]], requires_grad=True)
    others = torch.tensor([[0.3, -1.2, 5.0]], requires_grad=True)
    # row 0: equal to others[0] in its first two dimensions (distance 0); row 1: |1.0 - 0.3|
    d = prefix_distances(codes, others, torch.tensor([2, 1]))
    assert d[0, 0].item() == 0.0
    d.sum().backward()
    assert codes.grad is not None
    assert others.grad is not None
    assert torch.isfinite(codes.grad).all()
    assert torch.isfinite(others.grad).all()
    assert torch.equal(codes.grad[0], torch.zeros(3))
    # row 1: d = |1.0 - 0.3| in dimension 0 only, gradient +1 there
    torch.testing.assert_close(codes.grad[1], torch.tensor([1.0, 0.0, 0.0]))
    torch.testing.assert_close(others.grad[0], torch.tensor([-1.0, 0.0, 0.0]))


def test_prefix_distances_of_codes_with_themselves_have_finite_gradients() -> None:
    codes = torch.randn(5, 4, generator=torch.Generator().manual_seed(0), requires_grad=True)
    d = prefix_distances(codes, codes, torch.tensor([1, 2, 3, 4, 4]))
    torch.testing.assert_close(d.diagonal(), torch.zeros(5))
    d.square().sum().backward()
    assert codes.grad is not None
    assert torch.isfinite(codes.grad).all()
    assert codes.grad.abs().sum() > 0


# --- contrastive_loss ----------------------------------------------------------------------


def test_contrastive_loss_on_known_distances() -> None:
    distance = torch.tensor([[0.5, 2.0, 0.25], [1.0, 0.3, 0.0]])
    same = torch.tensor([[True, False, False], [True, False, True]])
    pull, push = contrastive_loss(distance, same, margin=1.0)
    # similar pairs: 0.5, 1.0, 0.0 -> mean of squares (0.25 + 1 + 0) / 3
    torch.testing.assert_close(pull, torch.tensor((0.25 + 1.0 + 0.0) / 3))
    # dissimilar pairs: 2.0 (beyond the margin: 0), 0.25 (0.75^2), 0.3 (0.7^2)
    torch.testing.assert_close(push, torch.tensor((0.0 + 0.75**2 + 0.7**2) / 3))


def test_contrastive_loss_uses_the_margin() -> None:
    distance = torch.tensor([[1.5, 2.5]])
    same = torch.tensor([[False, False]])
    _, push = contrastive_loss(distance, same, margin=2.0)
    torch.testing.assert_close(push, torch.tensor(0.5**2 / 2))


def test_contrastive_loss_leaves_ignored_pairs_out() -> None:
    distance = torch.tensor([[7.0, 0.5, 2.0], [0.5, 9.0, 0.1], [2.0, 0.1, 11.0]])
    artist = torch.tensor([0, 0, 1])
    same = artist[:, None] == artist[None, :]
    itself = torch.eye(3, dtype=torch.bool)
    pull, push = contrastive_loss(distance, same, ignore=itself)
    # similar off-diagonal pairs: (0, 1), (1, 0): d = 0.5 each; the diagonal (7, 9, 11) is out
    torch.testing.assert_close(pull, torch.tensor(0.25))
    # dissimilar: (0, 2) d=2 -> 0; (1, 2) d=0.1 -> 0.81; (2, 0) -> 0; (2, 1) -> 0.81
    torch.testing.assert_close(push, torch.tensor(2 * 0.81 / 4))
    pull_all, _ = contrastive_loss(distance, same)
    assert pull_all.item() > 10  # without the ignore mask the diagonal counts


def test_contrastive_loss_is_zero_for_an_absent_kind_of_pair() -> None:
    distance = torch.tensor([[0.2, 3.0], [0.4, 0.1]])
    pull, push = contrastive_loss(distance, torch.zeros(2, 2, dtype=torch.bool))
    assert pull.item() == 0.0
    torch.testing.assert_close(push, torch.tensor((0.64 + 0.0 + 0.36 + 0.81) / 4))
    pull, push = contrastive_loss(distance, torch.ones(2, 2, dtype=torch.bool))
    assert push.item() == 0.0
    torch.testing.assert_close(pull, torch.tensor((0.04 + 9.0 + 0.16 + 0.01) / 4))
    # every pair ignored: both absent
    pull, push = contrastive_loss(distance, torch.eye(2, dtype=torch.bool), ignore=torch.ones(2, 2, dtype=torch.bool))
    assert (pull.item(), push.item()) == (0.0, 0.0)


def test_contrastive_loss_gradients_pull_similar_and_push_dissimilar_pairs() -> None:
    distance = torch.tensor([[0.5, 0.5, 3.0]], requires_grad=True)
    same = torch.tensor([[True, False, False]])
    pull, push = contrastive_loss(distance, same)
    (pull + push).backward()
    assert distance.grad is not None
    # d(d^2)/dd = 1 > 0 (shrinks d); d((1 - d)^2 / 2)/dd = -(1 - d) = -0.5 (grows d); beyond the margin 0
    torch.testing.assert_close(distance.grad, torch.tensor([[1.0, -0.5, 0.0]]))


# --- the standard GAN losses ---------------------------------------------------------------


def test_gan_discriminator_is_softplus_of_the_logits() -> None:
    log3 = math.log(3)
    real = torch.tensor([0.0, log3])  # D = 1/2, 3/4
    fake = torch.tensor([0.0, -log3])  # D = 1/2, 1/4
    # -mean log D(real) - mean log(1 - D(fake))
    expected = (math.log(2) + math.log(4 / 3)) / 2 + (math.log(2) + math.log(4 / 3)) / 2
    assert gan_discriminator(real, fake).item() == pytest.approx(expected, rel=1e-6)
    # the two sets are averaged separately: sizes may differ
    many_fake = torch.tensor([-log3, -log3, -log3, -log3])
    assert gan_discriminator(real, many_fake).item() == pytest.approx(
        (math.log(2) + math.log(4 / 3)) / 2 + math.log(4 / 3), rel=1e-6
    )


def test_gan_generator_is_the_non_saturating_loss() -> None:
    log3 = math.log(3)
    fake = torch.tensor([0.0, -log3, log3])  # D = 1/2, 1/4, 3/4
    expected = (math.log(2) + math.log(4) + math.log(4 / 3)) / 3
    assert gan_generator(fake).item() == pytest.approx(expected, rel=1e-6)
    torch.testing.assert_close(gan_generator(fake), -torch.nn.functional.logsigmoid(fake).mean())


def test_gan_losses_are_stable_for_large_logits() -> None:
    assert gan_generator(torch.tensor([-200.0])).item() == pytest.approx(200.0)
    assert gan_generator(torch.tensor([200.0])).item() == pytest.approx(0.0, abs=1e-30)
    loss = gan_discriminator(torch.tensor([-300.0]), torch.tensor([300.0]))
    assert loss.item() == pytest.approx(600.0)
    half = gan_generator(torch.tensor([0.0, 1.0], dtype=torch.float16))
    assert half.dtype == torch.float32  # computed in float32 even under 16-bit precision
