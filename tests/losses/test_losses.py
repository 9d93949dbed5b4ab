"""Losses on small inputs whose values are worked out by hand."""

from __future__ import annotations

import math

import pytest
import torch

from animestyle.losses import (
    capped_log_likelihood,
    class_mean_gap,
    content_distance,
    gaussian_kl,
    lsgan_discriminator,
    lsgan_generator,
    nlu,
    pixel_distance,
)

EPS = math.sqrt(1e-8)  # pixel_distance of two equal pixels: sqrt(0 + 1e-8)


def image(rows: list[list[tuple[float, float, float]]]) -> torch.Tensor:
    """(1, 3, H, W) from rows of RGB triples."""
    return torch.tensor(rows, dtype=torch.float32).permute(2, 0, 1)[None]


# --- pixel_distance ------------------------------------------------------------------------


def test_pixel_distance_is_the_euclidean_colour_distance() -> None:
    x = torch.zeros(2, 3, 2, 2)
    y = x.clone()
    y[:, 0], y[:, 1] = 3.0, 4.0  # every pixel differs by (3, 4, 0): distance 5, not 25
    assert pixel_distance(x, y).item() == pytest.approx(5.0, rel=1e-6)
    assert pixel_distance(y, x).item() == pytest.approx(5.0, rel=1e-6)


def test_pixel_distance_averages_over_pixels() -> None:
    x = image([[(0, 0, 0), (0, 0, 0)], [(0, 0, 0), (0, 0, 0)]])
    y = image([[(3, 4, 0), (0, 0, 0)], [(0, 0, 0), (0, 0, 1)]])  # distances 5, 0, 0, 1
    expected = (math.sqrt(25 + 1e-8) + 2 * EPS + math.sqrt(1 + 1e-8)) / 4
    assert pixel_distance(x, y).item() == pytest.approx(expected, rel=1e-6)


def test_pixel_distance_alpha_weighting_ignores_transparent_pixels() -> None:
    x = torch.zeros(2, 3, 2, 2)
    y = torch.full((2, 3, 2, 2), 100.0)  # huge differences everywhere ...
    alpha = torch.zeros(2, 1, 2, 2)
    # ... except where opaque: image 0 has one opaque pixel at distance 5,
    y[0, :, 0, 0] = torch.tensor([3.0, 4.0, 0.0])
    alpha[0, 0, 0, 0] = 1.0
    # image 1 has four opaque pixels at distance 1 (weights need not sum to 1).
    y[1] = torch.tensor([0.0, 0.0, 1.0])[:, None, None]
    alpha[1] = 0.5
    # Each image is weighted to sum 1, then images are averaged: (5 + 1) / 2.
    assert pixel_distance(x, y, alpha).item() == pytest.approx(3.0, rel=1e-6)


def test_pixel_distance_weights_pixels_by_alpha() -> None:
    x = torch.zeros(1, 3, 1, 2)
    y = torch.tensor([[[[3.0, 0.0]], [[4.0, 0.0]], [[0.0, 1.0]]]])  # distances 5 and 1
    alpha = torch.tensor([[[[0.25, 0.75]]]])
    assert pixel_distance(x, y, alpha).item() == pytest.approx(0.25 * 5 + 0.75 * 1, rel=1e-6)


def test_pixel_distance_has_a_finite_gradient_where_images_agree() -> None:
    x = torch.zeros(1, 3, 2, 2, requires_grad=True)
    pixel_distance(x, torch.zeros(1, 3, 2, 2)).backward()
    assert x.grad is not None
    assert torch.isfinite(x.grad).all()


def test_pixel_distance_rejects_different_shapes() -> None:
    with pytest.raises(ValueError, match=r"\(1, 3, 2, 2\) and \(1, 4, 2, 2\)"):
        pixel_distance(torch.zeros(1, 3, 2, 2), torch.zeros(1, 4, 2, 2))


# --- content_distance ----------------------------------------------------------------------


def test_content_distance_is_the_squared_distance_summed_over_dimensions() -> None:
    c = torch.tensor([[1.0, 2.0], [0.0, 0.0]])
    target = torch.tensor([[0.0, 0.0], [0.0, 3.0]])
    assert content_distance(c, target).item() == pytest.approx((5 + 9) / 2)
    weight = torch.tensor([1.0, 0.5])
    assert content_distance(c, target, weight).item() == pytest.approx((1 + 2 + 4.5) / 2)


# --- gaussian_kl ---------------------------------------------------------------------------


def test_gaussian_kl_known_values() -> None:
    assert gaussian_kl(torch.zeros(3, 4), torch.ones(3, 4)).item() == 0.0
    # mean 1, std e: 0.5 (1 + e^2) - 1 - 0.5 per dimension
    per_dim = 0.5 * (1 + math.e**2) - 1.5
    mean, std = torch.ones(2, 3), torch.full((2, 3), math.e)
    assert gaussian_kl(mean, std).item() == pytest.approx(3 * per_dim, rel=1e-6)
    weight = torch.tensor([1.0, 0.5, 0.0])
    assert gaussian_kl(mean, std, weight).item() == pytest.approx(1.5 * per_dim, rel=1e-6)


def test_gaussian_kl_matches_torch_distributions_and_averages_rows() -> None:
    g = torch.Generator().manual_seed(0)
    mean, std = torch.randn(5, 3, generator=g), torch.rand(5, 3, generator=g) + 0.1
    expected = torch.distributions.kl_divergence(
        torch.distributions.Normal(mean, std), torch.distributions.Normal(0.0, 1.0)
    )
    torch.testing.assert_close(gaussian_kl(mean, std), expected.sum(1).mean())


# --- LSGAN ---------------------------------------------------------------------------------


def test_lsgan_discriminator_targets_one_for_real_and_minus_one_for_fake() -> None:
    assert lsgan_discriminator(torch.ones(4), -torch.ones(4)).item() == 0.0
    assert lsgan_discriminator(torch.zeros(4), torch.zeros(4)).item() == 2.0
    # real (1, 3): errors 0, 2 -> mean 2; fake (-1, 1): errors 0, 2 -> mean 2
    assert lsgan_discriminator(torch.tensor([1.0, 3.0]), torch.tensor([-1.0, 1.0])).item() == 4.0


def test_lsgan_generator_targets_zero() -> None:
    assert lsgan_generator(torch.zeros(3)).item() == 0.0
    assert lsgan_generator(torch.tensor([1.0, -1.0])).item() == 1.0
    assert lsgan_generator(torch.tensor([2.0, 0.0])).item() == 2.0


# --- nlu -----------------------------------------------------------------------------------


def test_nlu_is_minus_log_one_minus_p() -> None:
    logits = torch.log(torch.tensor([[1.0, 3.0], [1.0, 3.0]]))  # softmax (0.25, 0.75)
    assert nlu(logits, torch.tensor([1, 1])).item() == pytest.approx(-math.log(1 - 0.75 + 1e-6), rel=1e-5)
    assert nlu(logits, torch.tensor([0, 0])).item() == pytest.approx(-math.log(1 - 0.25 + 1e-6), rel=1e-5)
    mixed = (-math.log(0.25 + 1e-6) - math.log(0.75 + 1e-6)) / 2
    assert nlu(logits, torch.tensor([1, 0])).item() == pytest.approx(mixed, rel=1e-5)


def test_nlu_stays_finite_when_the_classifier_is_certain() -> None:
    logits = torch.tensor([[0.0, 100.0]], requires_grad=True)
    loss = nlu(logits, torch.tensor([1]))
    assert loss.item() == pytest.approx(-math.log(1e-6), rel=1e-3)
    loss.backward()
    assert logits.grad is not None
    assert torch.isfinite(logits.grad).all()


# --- capped_log_likelihood -----------------------------------------------------------------


def test_capped_log_likelihood_floors_at_the_prior() -> None:
    logits = torch.zeros(2, 4, requires_grad=True)  # p = 0.25 for every class
    log_prior = torch.log(torch.tensor([0.5, 0.25, 0.125, 0.125]))
    # class 0: log 0.25 < log 0.5, floored at the prior; class 2: log 0.25 > log 0.125, kept
    loss = capped_log_likelihood(logits, torch.tensor([0, 2]), log_prior)
    assert loss.item() == pytest.approx((math.log(0.5) + math.log(0.25)) / 2, rel=1e-6)
    loss.backward()
    assert logits.grad is not None
    assert (logits.grad[0] == 0).all()  # floored: no push further down
    assert (logits.grad[1] != 0).any()


def test_capped_log_likelihood_is_the_log_likelihood_above_the_prior() -> None:
    logits = torch.tensor([[math.log(3.0), 0.0]])  # p = (0.75, 0.25)
    log_prior = torch.log(torch.tensor([0.5, 0.5]))
    assert capped_log_likelihood(logits, torch.tensor([0]), log_prior).item() == pytest.approx(math.log(0.75))
    assert capped_log_likelihood(logits, torch.tensor([1]), log_prior).item() == pytest.approx(math.log(0.5))


# --- class_mean_gap -----------------------------------------------------------------------


def _batch(
    generator: torch.Generator, offset: float, size: int = 32, dims: int = 16
) -> tuple[torch.Tensor, torch.Tensor]:
    """Codes of two equally likely classes whose means are ``+offset`` and ``-offset`` in every
    dimension, with unit noise: the between-class share of each dimension's variance is
    ``offset^2 / (offset^2 + 1)``."""
    labels = torch.randint(0, 2, (size,), generator=generator)
    codes = (2 * labels[:, None] - 1) * offset + torch.randn(size, dims, generator=generator)
    return codes, labels


def test_class_mean_gap_is_the_between_class_share_of_the_variance_without_small_sample_bias() -> None:
    generator = torch.Generator().manual_seed(0)
    for offset, share in ((0.0, 0.0), (1.0, 0.5), (2.0, 0.8)):
        gaps = [class_mean_gap(*_batch(generator, offset)) for _ in range(400)]
        assert float(torch.stack(gaps).mean()) == pytest.approx(share, abs=0.03), offset


def test_class_mean_gap_reads_standardised_codes_and_skips_lone_classes() -> None:
    codes, labels = _batch(torch.Generator().manual_seed(1), 1.0)
    scale, shift = torch.linspace(0.1, 10, codes.shape[1]), torch.linspace(-5, 5, codes.shape[1])
    assert float(class_mean_gap(codes * scale + shift, labels)) == pytest.approx(
        float(class_mean_gap(codes, labels)), rel=1e-4
    )
    assert float(class_mean_gap(codes[:4], torch.arange(4))) == 0.0  # no class has two codes


def test_descending_class_mean_gap_pulls_the_class_means_together() -> None:
    codes, labels = _batch(torch.Generator().manual_seed(2), 1.0)
    codes.requires_grad_(True)
    optimizer = torch.optim.SGD([codes], lr=100.0)  # a gradient of about offset / (batch x dims) per code
    for _ in range(50):
        optimizer.zero_grad()
        class_mean_gap(codes, labels).backward()
        optimizer.step()
    means = torch.stack([codes[labels == k].mean(0) for k in (0, 1)]).detach()
    assert float((means[0] - means[1]).abs().mean()) < 0.2  # from 2.0
    assert float(codes.detach().std(0).mean()) > 0.5  # the within-class spread is kept
