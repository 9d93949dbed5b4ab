"""WGAN losses and the WGAN-GP gradient penalty on critics whose gradients are known."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from animestyle.losses import gradient_penalty, wgan_discriminator, wgan_generator


def seeded(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def linear_critic(norm: float, shape: tuple[int, ...] = (3, 4, 4)) -> nn.Sequential:
    """``f(x) = <w, x> + b`` with ``||w|| = norm``: its gradient is ``w`` everywhere."""
    features = int(torch.tensor(shape).prod())
    critic = nn.Sequential(nn.Flatten(), nn.Linear(features, 1))
    with torch.no_grad():
        w = torch.randn(1, features, generator=seeded(5))
        critic[1].weight.copy_(w / w.norm() * norm)
        critic[1].bias.fill_(0.3)
    return critic


def pair(batch: int = 4) -> tuple[torch.Tensor, torch.Tensor]:
    g = seeded(1)
    return torch.randn(batch, 3, 4, 4, generator=g), torch.randn(batch, 3, 4, 4, generator=g)


# --- WGAN losses ---------------------------------------------------------------------------


def test_wgan_losses_on_known_scores() -> None:
    real, fake = torch.tensor([1.0, 3.0]), torch.tensor([-1.0, 0.0, 4.0])
    assert wgan_discriminator(real, fake).item() == pytest.approx(1.0 - 2.0)
    assert wgan_discriminator(real, real).item() == 0.0
    assert wgan_generator(fake).item() == pytest.approx(-1.0)
    assert wgan_generator(torch.tensor([2.0, 4.0], dtype=torch.bfloat16)).dtype == torch.float32


# --- gradient penalty ----------------------------------------------------------------------


@pytest.mark.parametrize(("norm", "expected"), [(3.0, 4.0), (1.0, 0.0), (0.5, 0.25)])
def test_penalty_of_a_linear_critic_is_its_weight_norm_minus_one_squared(norm: float, expected: float) -> None:
    penalty = gradient_penalty(linear_critic(norm), *pair())
    assert penalty.shape == ()
    assert penalty.item() == pytest.approx(expected, abs=1e-5)


def test_penalty_is_float32_and_unchanged_under_bf16_autocast() -> None:
    critic = linear_critic(3.0)
    real, fake = pair()
    plain = gradient_penalty(critic, real, fake, seeded())
    with torch.autocast("cpu", dtype=torch.bfloat16):
        mixed = gradient_penalty(critic, real, fake, seeded())
        half = gradient_penalty(critic, real.bfloat16(), fake.bfloat16(), seeded())
    assert mixed.dtype == half.dtype == torch.float32
    assert mixed.item() == pytest.approx(4.0, abs=1e-5)
    torch.testing.assert_close(mixed, plain)
    assert half.item() == pytest.approx(4.0, abs=1e-5)


def test_penalty_uses_one_uniform_weight_per_sample() -> None:
    # f(x) = ||x||^2 / 2 has gradient x; with real = 0 the interpolate is alpha * fake
    def critic(x: torch.Tensor) -> torch.Tensor:
        return x.square().flatten(1).sum(1) / 2

    real, fake = torch.zeros(6, 3, 4, 4), pair(6)[1]
    penalty = gradient_penalty(critic, real, fake, seeded(7))
    alpha = torch.rand(6, 1, 1, 1, generator=seeded(7))
    expected = ((alpha * fake).flatten(1).norm(dim=1) - 1).square().mean()
    torch.testing.assert_close(penalty, expected)
    assert gradient_penalty(critic, real, fake, seeded(8)).item() != pytest.approx(penalty.item())


def test_penalty_backpropagates_to_the_critic_only() -> None:
    critic = linear_critic(3.0)
    real, fake = pair()
    scale = nn.Parameter(torch.tensor(2.0))  # stands for the generator that made ``fake``
    gradient_penalty(critic, real, fake * scale).backward()
    w = critic[1].weight.detach()
    # d/dw (||w|| - 1)^2 = 2 (||w|| - 1) w / ||w|| = 4/3 w at ||w|| = 3
    assert critic[1].weight.grad is not None
    torch.testing.assert_close(critic[1].weight.grad, 4 / 3 * w)
    assert scale.grad is None


def test_penalty_accepts_column_scores_and_discriminator_tuples() -> None:
    critic = linear_critic(3.0)
    real, fake = pair()

    def with_attributes(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return critic(x).squeeze(1), torch.zeros(x.shape[0], 5)

    assert gradient_penalty(critic, real, fake).item() == pytest.approx(4.0, abs=1e-5)  # (B, 1)
    assert gradient_penalty(with_attributes, real, fake).item() == pytest.approx(4.0, abs=1e-5)


def test_penalty_refuses_bad_shapes() -> None:
    real, fake = pair()
    with pytest.raises(ValueError, match="must have one shape"):
        gradient_penalty(linear_critic(1.0), real, fake[:2])
    with pytest.raises(ValueError, match=r"\(B,\) or \(B, 1\)"):
        gradient_penalty(lambda x: x.flatten(1)[:, :2], real, fake)
