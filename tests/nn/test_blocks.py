"""The reusable blocks of ``animestyle.nn``: shapes, no NaN, and the statistics each promises."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from animestyle.nn import EMA, GaussianHead, NestedDropout, ResidualDown, ResidualUp, StandardisedPReLU, StyleBank
from animestyle.nn.gaussian import softplus_inverse
from animestyle.nn.residual import unit_norm_
from animestyle.nn.style_bank import style_dim_for


def seeded(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# --- StandardisedPReLU ---------------------------------------------------------------------


@pytest.mark.parametrize("slope", [0.0, 0.25, 0.5])
def test_standardised_prelu_keeps_a_unit_gaussian_standardised(slope: float) -> None:
    act = StandardisedPReLU(4, slope=slope)
    z = torch.randn(50_000, 4, generator=seeded())
    y = act(z)
    assert y.shape == z.shape
    # Standard errors: 1/sqrt(200_000) ~ 0.0022 for the mean, about the same for the std.
    assert abs(y.mean().item()) < 0.01
    assert abs(y.std().item() - 1) < 0.01


def test_standardised_prelu_is_per_channel_and_learnable() -> None:
    act = StandardisedPReLU(3)
    assert [n for n, _ in act.named_parameters()] == ["prelu.weight"]
    assert act.prelu.weight.shape == (3,)
    torch.testing.assert_close(act.prelu.weight, torch.full((3,), 0.25))
    assert "shift" not in act.state_dict()
    assert "scale" not in act.state_dict()
    x = torch.randn(2, 3, 5, 5, generator=seeded())
    act(x).square().sum().backward()
    assert act.prelu.weight.grad is not None
    assert (act.prelu.weight.grad != 0).all()


def test_standardised_prelu_values() -> None:
    act = StandardisedPReLU(1, slope=0.25)
    mean = 0.75 / math.sqrt(2 * math.pi)
    std = math.sqrt(0.5 * (1 + 0.25**2) - mean**2)
    x = torch.tensor([[2.0], [-2.0], [0.0]])
    expected = (torch.tensor([[2.0], [-0.5], [0.0]]) - mean) / std
    torch.testing.assert_close(act(x), expected)


# --- residual blocks -----------------------------------------------------------------------


def test_unit_norm_gives_each_output_unit_norm_one() -> None:
    w = torch.randn(5, 3, 4, 4, generator=seeded())
    unit_norm_(w)
    torch.testing.assert_close(w.flatten(1).norm(dim=1), torch.ones(5))
    wt = torch.randn(3, 5, 4, 4, generator=seeded())
    unit_norm_(wt, dim=1)
    torch.testing.assert_close(wt.transpose(0, 1).flatten(1).norm(dim=1), torch.ones(5))


@pytest.mark.parametrize(("cin", "cout"), [(4, 8), (8, 8)])
def test_residual_down_halves_resolution(cin: int, cout: int) -> None:
    block = ResidualDown(cin, cout, residual_share=1 / 3)
    assert (block.project is None) == (cin == cout)
    y = block(torch.randn(2, cin, 16, 12, generator=seeded()))
    assert y.shape == (2, cout, 8, 6)
    assert torch.isfinite(y).all()


@pytest.mark.parametrize(("cin", "cout"), [(8, 4), (8, 8)])
def test_residual_up_doubles_resolution(cin: int, cout: int) -> None:
    block = ResidualUp(cin, cout, residual_share=1 / 3)
    assert (block.project is None) == (cin == cout)
    y = block(torch.randn(2, cin, 4, 6, generator=seeded()))
    assert y.shape == (2, cout, 8, 12)
    assert torch.isfinite(y).all()


def test_residual_up_keeps_unit_variance_at_initialisation() -> None:
    torch.manual_seed(0)
    block = ResidualUp(64, 64)
    x = torch.randn(8, 64, 8, 8, generator=seeded())
    # Each output pixel of the 6x6 stride-2 transposed conv sees 9 of the 36 taps: the
    # weights are doubled so the branch still has about unit variance (0.5 without it).
    assert 0.8 < block.conv(x).std().item() < 1.2
    assert 0.8 < block(x).std().item() < 1.2


def test_residual_mix_starts_at_sqrt_shares() -> None:
    block = ResidualDown(4, 4, residual_share=0.25)
    torch.testing.assert_close(block.mix.residual_scale, torch.full((1, 4, 1, 1), 0.5))
    torch.testing.assert_close(block.mix.shortcut_scale, torch.full((1, 4, 1, 1), math.sqrt(0.75)))
    with pytest.raises(ValueError, match="residual_share=1"):
        ResidualDown(4, 4, residual_share=1.0)


@pytest.mark.parametrize("up", [False, True], ids=["down", "up"])
def test_residual_blocks_give_every_parameter_a_gradient(up: bool) -> None:
    block = ResidualUp(6, 3) if up else ResidualDown(3, 6)
    y = block(torch.randn(2, 6 if up else 3, 8, 8, generator=seeded()))
    (y * torch.randn(y.shape, generator=seeded(1))).sum().backward()
    for name, p in block.named_parameters():
        assert p.grad is not None, name
        assert p.grad.abs().sum() > 0, name


# --- GaussianHead --------------------------------------------------------------------------


def test_softplus_inverse() -> None:
    for value in (0.1, 1.0, 3.0):
        assert F.softplus(torch.tensor(softplus_inverse(value))).item() == pytest.approx(value, rel=1e-6)


def test_gaussian_head_shapes_and_unit_std_at_zero_input() -> None:
    head = GaussianHead(16, 5)
    mean, std = head(torch.randn(3, 16, generator=seeded()))
    assert mean.shape == std.shape == (3, 5)
    assert (std > 0).all()
    mean0, std0 = head(torch.zeros(2, 16))
    torch.testing.assert_close(mean0, torch.zeros(2, 5))
    torch.testing.assert_close(std0, torch.ones(2, 5))


def test_gaussian_head_std_stays_positive_for_large_negative_inputs() -> None:
    head = GaussianHead(2, 3)
    with torch.no_grad():
        head.std.bias.fill_(-200.0)
    _, std = head(torch.zeros(1, 2))
    assert (std > 0).all()
    assert torch.isfinite(std.log()).all()


# --- NestedDropout -------------------------------------------------------------------------


def test_nested_dropout_keep_frequencies_match_p_to_the_i() -> None:
    dims, p, rows = 12, 0.8, 40_000
    drop = NestedDropout(dims, keep=p).train()
    torch.manual_seed(0)
    kept = drop(torch.ones(rows, dims)) != 0
    frequency = kept.float().mean(0)
    expected = p ** torch.arange(dims, dtype=torch.float32)
    # Binomial standard error <= 0.5 / sqrt(rows) = 0.0025; allow 4 of them.
    torch.testing.assert_close(frequency, expected, atol=0.01, rtol=0)
    torch.testing.assert_close(drop.keep_probability, expected)
    # A prefix of each row is kept, never a scattered subset; dimension 0 always survives.
    assert (kept[:, 1:] <= kept[:, :-1]).all()
    assert kept[:, 0].all()


def test_nested_dropout_default_keep_is_one_minus_two_over_dims() -> None:
    drop = NestedDropout(10)
    assert drop.keep == pytest.approx(0.8)
    with pytest.raises(ValueError, match="keep"):
        NestedDropout(2)


def test_nested_dropout_leaves_values_it_keeps() -> None:
    drop = NestedDropout(6, keep=0.7).train()
    code = torch.randn(500, 6, generator=seeded())
    torch.manual_seed(1)
    out = drop(code)
    kept = out != 0
    torch.testing.assert_close(out[kept], code[kept])


def test_nested_dropout_is_identity_in_eval_and_with_keep_one() -> None:
    code = torch.randn(64, 8, generator=seeded())
    assert torch.equal(NestedDropout(8).eval()(code), code)
    assert torch.equal(NestedDropout(8, keep=1.0).train()(code), code)


# --- StyleBank -----------------------------------------------------------------------------


def test_style_dim_for_follows_the_official_rule() -> None:
    assert style_dim_for(4) == 4
    assert style_dim_for(40) == 16
    assert style_dim_for(100) == 25
    assert style_dim_for(5000) == 256


def test_style_bank_shapes_and_sampling() -> None:
    bank = StyleBank(5, 3)
    artist = torch.tensor([0, 4, 4, 2])
    mean, std = bank(artist)
    assert mean.shape == std.shape == (4, 3)
    bank.eval()
    assert torch.equal(bank.sample(artist), mean)
    bank.train()
    torch.manual_seed(0)
    drawn = bank.sample(artist)
    assert drawn.shape == (4, 3)
    assert not torch.equal(drawn, mean)


def test_style_bank_kl_is_zero_at_the_prior_and_positive_elsewhere() -> None:
    bank = StyleBank(4, 3)  # means 0, std softplus(pstd) + 1e-6 == 1 up to float rounding
    torch.testing.assert_close(bank.kl(), torch.tensor(0.0), atol=1e-6, rtol=0)
    with torch.no_grad():
        bank.mean[1] = 1.0  # KL of that artist: 0.5 * 3 dims
    torch.testing.assert_close(bank.kl(), torch.tensor(0.25 * 1.5), atol=1e-5, rtol=0)
    bank.set_frequency(torch.tensor([0, 3, 1, 0]))
    torch.testing.assert_close(bank.kl(), torch.tensor(0.75 * 1.5), atol=1e-5, rtol=0)
    with torch.no_grad():
        bank.mean.zero_()
        bank.pstd.fill_(softplus_inverse(2.0))  # KL per dim: 0.5 * 4 - log 2 - 0.5
    torch.testing.assert_close(bank.kl(), torch.tensor(3 * (1.5 - math.log(2))), atol=1e-5, rtol=0)


def test_style_bank_kl_matches_torch_distributions() -> None:
    bank = StyleBank(3, 2)
    with torch.no_grad():
        bank.mean.normal_(generator=seeded())
        bank.pstd.normal_(generator=seeded(1))
    bank.set_frequency(torch.tensor([1, 2, 5]))
    mean, std = bank.gaussians()
    per_artist = torch.distributions.kl_divergence(
        torch.distributions.Normal(mean, std), torch.distributions.Normal(0.0, 1.0)
    ).sum(1)
    torch.testing.assert_close(bank.kl(), (per_artist * torch.tensor([1, 2, 5]) / 8).sum())


def test_standardised_style_bank_gives_a_zero_mean_unit_variance_mixture() -> None:
    bank = StyleBank(5, 4, standardise=True)
    with torch.no_grad():
        bank.mean.normal_(mean=3.0, std=2.0, generator=seeded())
        bank.pstd.normal_(generator=seeded(1))
    counts = torch.tensor([1, 2, 3, 4, 10])
    bank.set_frequency(counts)
    mean, std = bank.gaussians()
    w = (counts / counts.sum())[:, None]
    mixture_mean = (w * mean).sum(0)
    mixture_var = (w * (std**2 + mean**2)).sum(0) - mixture_mean**2
    torch.testing.assert_close(mixture_mean, torch.zeros(4), atol=1e-5, rtol=0)
    torch.testing.assert_close(mixture_var, torch.ones(4), atol=1e-5, rtol=0)
    # Standardising changes the codes: the raw bank is far from zero mean.
    raw_mean = (w * bank.mean).sum(0)
    assert (raw_mean.abs() > 1).all()


def test_style_bank_set_frequency_checks_its_shape() -> None:
    bank = StyleBank(3, 2)
    with pytest.raises(ValueError, match=r"\(3,\)"):
        bank.set_frequency(torch.tensor([1, 2]))


# --- EMA -----------------------------------------------------------------------------------


def test_ema_update_moves_toward_the_network_by_one_minus_decay() -> None:
    net = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    ema = EMA(net, decay=0.9)
    old = [p.detach().clone() for p in ema.network.parameters()]
    with torch.no_grad():
        for p in net.parameters():
            p.add_(1.0)
        net.state_dict()["1.running_mean"].fill_(7.0)
    ema.update(net)
    for average, before, current in zip(ema.network.parameters(), old, net.parameters(), strict=True):
        torch.testing.assert_close(average, before + 0.1 * (current - before))
    torch.testing.assert_close(ema.network.state_dict()["1.running_mean"], torch.full((4,), 7.0))
    # a decay for this update alone (a warm-up)
    old = [p.detach().clone() for p in ema.network.parameters()]
    ema.update(net, decay=0.5)
    for average, before, current in zip(ema.network.parameters(), old, net.parameters(), strict=True):
        torch.testing.assert_close(average, before + 0.5 * (current - before))
    assert ema.decay == 0.9


def test_ema_reset_copies_the_network() -> None:
    net = nn.Linear(3, 2)
    ema = EMA(net, decay=0.5)
    with torch.no_grad():
        net.weight.normal_(generator=seeded(3))
    ema.reset(net)
    kept = ema.network.state_dict()
    assert torch.equal(kept["weight"], net.weight)
    assert torch.equal(kept["bias"], net.bias)
    assert kept["weight"].data_ptr() != net.weight.data_ptr()  # a copy, not the same tensor


def test_ema_copy_needs_no_gradients_and_stays_in_eval() -> None:
    net = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))
    ema = EMA(net).train()
    assert not ema.network.training
    assert all(not p.requires_grad for p in ema.parameters())
    x = torch.ones(4, 2)
    assert torch.equal(ema(x), ema(x))  # dropout is off
    with pytest.raises(ValueError, match="decay=1"):
        EMA(net, decay=1.0)
