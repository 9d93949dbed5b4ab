"""The style-space paper's blocks: TPReLU, weight normalisation, the weight-normalised
residual block, and nested dropout's draw / cut / scale API."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from animestyle.nn import NestedDropout, TPReLU, WNResidual
from animestyle.nn.nested_dropout import prefix_mask
from animestyle.nn.weight_norm import weight_normed


def seeded(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# --- TPReLU --------------------------------------------------------------------------------


def test_tprelu_is_prelu_translated_by_t() -> None:
    act = TPReLU(2, slope=0.25)
    with torch.no_grad():
        act.translation.copy_(torch.tensor([1.0, -2.0]))
    # channel 0: t = 1; channel 1: t = -2. Above t: x; below t: t + 0.25 (x - t).
    x = torch.tensor([[3.0, 0.0], [-1.0, -6.0], [1.0, -2.0]])
    expected = torch.tensor([[3.0, 0.0], [1 + 0.25 * -2.0, -2 + 0.25 * -4.0], [1.0, -2.0]])
    torch.testing.assert_close(act(x), expected)


def test_tprelu_translates_per_channel_on_images() -> None:
    act = TPReLU(3, slope=0.1)
    with torch.no_grad():
        act.translation.copy_(torch.tensor([0.5, -0.5, 2.0]))
        act.slope.copy_(torch.tensor([0.1, 0.5, 1.0]))
    x = torch.randn(2, 3, 4, 5, generator=seeded())
    t = act.translation.view(1, 3, 1, 1)
    s = act.slope.view(1, 3, 1, 1)
    expected = torch.where(x > t, x, t + s * (x - t))
    torch.testing.assert_close(act(x), expected)
    assert act(x).shape == x.shape


def test_tprelu_clamps_the_slope_to_the_unit_interval() -> None:
    act = TPReLU(2)
    x = torch.tensor([[-4.0, -4.0], [2.0, 2.0]])
    with torch.no_grad():
        act.slope.copy_(torch.tensor([-0.5, 3.0]))  # as an optimizer might push it
    # slope -0.5 acts as 0 (ReLU), slope 3 as 1 (identity)
    torch.testing.assert_close(act(x), torch.tensor([[0.0, -4.0], [2.0, 2.0]]))


@pytest.mark.parametrize("slope", [-0.1, 1.5])
def test_tprelu_rejects_a_slope_outside_the_unit_interval(slope: float) -> None:
    with pytest.raises(ValueError, match=f"slope={slope}"):
        TPReLU(4, slope=slope)


def test_tprelu_learns_slope_and_translation() -> None:
    act = TPReLU(3)
    x = torch.randn(8, 3, 4, 4, generator=seeded())
    act(x).square().sum().backward()
    assert act.slope.grad is not None
    assert act.translation.grad is not None
    assert (act.slope.grad != 0).all()
    assert (act.translation.grad != 0).all()


# --- weight normalisation ------------------------------------------------------------------


def unit_norms(weight: torch.Tensor, dim: int) -> torch.Tensor:
    """The L2 norm of each output unit (slices along ``dim``)."""
    return weight.transpose(0, dim).flatten(1).norm(dim=1)


LAYERS: list[tuple[Callable[[], nn.Module], int, int]] = [
    (lambda: nn.Conv2d(3, 5, 3), 0, 5),
    (lambda: nn.Linear(7, 4), 0, 4),
    (lambda: nn.ConvTranspose2d(3, 6, 4, 2, 1), 1, 6),
]


@pytest.mark.parametrize(("make", "dim", "units"), LAYERS, ids=["conv", "linear", "conv_transpose"])
@pytest.mark.parametrize("gain", [1.0, 2.0, 0.5])
def test_weight_normed_sets_every_output_units_norm_to_the_gain(
    make: Callable[[], nn.Module], dim: int, units: int, gain: float
) -> None:
    torch.manual_seed(0)
    layer = weight_normed(make(), gain=gain)
    norms = unit_norms(layer.weight, dim)
    assert norms.shape == (units,)
    torch.testing.assert_close(norms, torch.full((units,), gain))
    assert layer.bias is not None
    assert torch.equal(layer.bias, torch.zeros(units))


@pytest.mark.parametrize(("make", "dim", "units"), LAYERS, ids=["conv", "linear", "conv_transpose"])
def test_weight_normed_stays_normalised_after_an_optimizer_step(
    make: Callable[[], nn.Module], dim: int, units: int
) -> None:
    torch.manual_seed(0)
    layer = weight_normed(make())
    raw = layer.parametrizations.weight
    g_before, v_before = raw.original0.detach().clone(), raw.original1.detach().clone()
    optimizer = torch.optim.SGD(layer.parameters(), lr=0.1)
    x = torch.randn(4, 7) if isinstance(layer, nn.Linear) else torch.randn(2, 3, 8, 8)
    layer(x).square().sum().backward()
    optimizer.step()
    g, v = raw.original0.detach(), raw.original1.detach()
    assert not torch.equal(g, g_before)  # the step changed both raw parameters
    assert not torch.equal(v, v_before)
    # the weight is still g * v / ||v|| per output unit: its norm is |g|, not ||v||
    torch.testing.assert_close(unit_norms(layer.weight, dim), g.abs().flatten())
    assert not torch.allclose(unit_norms(v, dim), g.abs().flatten())


# --- WNResidual ----------------------------------------------------------------------------


SHAPES = [
    ("down", 4, 8, (8, 8)),
    ("down", 8, 8, (8, 8)),
    ("up", 8, 4, (32, 32)),
    ("up", 8, 8, (32, 32)),
    ("none", 4, 8, (16, 16)),
    ("none", 8, 8, (16, 16)),
]


@pytest.mark.parametrize(("resample", "cin", "cout", "size"), SHAPES)
def test_wn_residual_shapes(resample: str, cin: int, cout: int, size: tuple[int, int]) -> None:
    block = WNResidual(cin, cout, resample)  # type: ignore[arg-type]
    assert (block.project is None) == (cin == cout)
    y = block(torch.randn(2, cin, 16, 16, generator=seeded()))
    assert y.shape == (2, cout, *size)
    assert torch.isfinite(y).all()


@pytest.mark.parametrize("resample", ["down", "up", "none"])
@pytest.mark.parametrize(("cin", "cout"), [(16, 32), (32, 16), (32, 32)])
def test_wn_residual_keeps_about_unit_variance_at_initialisation(resample: str, cin: int, cout: int) -> None:
    torch.manual_seed(0)
    block = WNResidual(cin, cout, resample)  # type: ignore[arg-type]
    g = seeded(1)
    if resample == "down":
        # piecewise constant on 2x2 cells: average pooling keeps its unit variance
        x = F.interpolate(torch.randn(4, cin, 16, 16, generator=g), scale_factor=2.0, mode="nearest")
    else:
        x = torch.randn(4, cin, 32, 32, generator=g)
    with torch.no_grad():
        y = block(x)
        residual = block.conv2(block.act(block.conv1(x)))
    # measured ~0.9-1.0 for both; a missing gain (e.g. 1 instead of 2 for the transposed
    # convolution, or none after the PReLU) takes the residual to <= 0.6
    assert 0.7 < residual.square().mean().item() < 1.3
    assert 0.75 < y.var().item() < 1.25


@pytest.mark.parametrize("resample", ["down", "up", "none"])
def test_wn_residual_gives_every_parameter_a_gradient(resample: str) -> None:
    torch.manual_seed(0)
    block = WNResidual(4, 8, resample)  # type: ignore[arg-type]
    block(torch.randn(2, 4, 8, 8, generator=seeded())).sin().sum().backward()
    names = [name for name, _ in block.named_parameters()]
    assert "residual_weight" in names
    assert any(name.startswith("project.") for name in names)
    for name, p in block.named_parameters():
        assert p.grad is not None, f"{name} got no gradient"
        assert torch.isfinite(p.grad).all(), name
        assert p.grad.abs().sum() > 0, f"{name} got an all-zero gradient"


def test_wn_residual_rejects_an_unknown_resampling() -> None:
    with pytest.raises(ValueError, match="resample='half'"):
        WNResidual(4, 4, "half")  # type: ignore[arg-type]


# --- NestedDropout: draw, cut, scale -------------------------------------------------------


def test_prefix_mask_marks_each_rows_first_kept_dimensions() -> None:
    mask = prefix_mask(torch.tensor([1, 3, 4, 0]), 4)
    expected = torch.tensor(
        [[True, False, False, False], [True, True, True, False], [True, True, True, True], [False] * 4]
    )
    assert mask.dtype == torch.bool
    assert torch.equal(mask, expected)


@pytest.mark.parametrize(("dims", "keep"), [(8, 0.7), (16, 0.9)])
def test_draw_gives_cut_offs_with_p_to_the_i_survival(dims: int, keep: float) -> None:
    torch.manual_seed(0)
    n = 200_000
    drop = NestedDropout(dims, keep=keep)
    b = drop.draw(n)
    assert b.shape == (n,)
    assert b.dtype == torch.long
    assert b.min().item() >= 1
    assert b.max().item() <= dims
    assert b.max().item() == dims  # the truncation at D is reached (P = keep ** (D - 1))
    for i in range(dims):
        expected = keep**i
        observed = (b > i).float().mean().item()
        standard_error = math.sqrt(expected * (1 - expected) / n)
        assert abs(observed - expected) <= 5 * standard_error + 1e-9, f"P(b > {i}): {observed} vs {expected}"


def test_draw_with_keep_one_keeps_every_dimension() -> None:
    drop = NestedDropout(6, keep=1.0)
    assert torch.equal(drop.draw(1000), torch.full((1000,), 6))
    code = torch.randn(5, 6, generator=seeded())
    assert torch.equal(drop.train()(code), code)


def test_draw_uses_the_default_keep_of_one_minus_two_over_d() -> None:
    torch.manual_seed(1)
    b = NestedDropout(10).draw(100_000)
    # P(b > 1) = 0.8, P(b > 5) = 0.8 ** 5
    assert (b > 1).float().mean().item() == pytest.approx(0.8, abs=0.01)
    assert (b > 5).float().mean().item() == pytest.approx(0.8**5, abs=0.01)


def test_cut_zeroes_after_the_prefix_unscaled() -> None:
    drop = NestedDropout(4, keep=0.5)
    code = torch.arange(1.0, 13.0).view(3, 4)
    out = drop.cut(code, torch.tensor([1, 4, 2]))
    expected = torch.tensor([[1.0, 0, 0, 0], [5, 6, 7, 8], [9, 10, 0, 0]])
    assert torch.equal(out, expected)


def test_cut_scales_each_row_by_the_scale_of_its_cut_off() -> None:
    drop = NestedDropout(4, keep=0.5, scaled=True)
    assert drop.scale is not None
    torch.testing.assert_close(drop.scale.detach(), torch.ones(4))  # 1 at first
    with torch.no_grad():
        drop.scale.copy_(torch.tensor([2.0, 3.0, 5.0, 7.0]))
    code = torch.arange(1.0, 13.0).view(3, 4)
    out = drop.cut(code, torch.tensor([1, 4, 2]))
    expected = torch.tensor([[1.0 * 2, 0, 0, 0], [5 * 7, 6 * 7, 7 * 7, 8 * 7], [9 * 3, 10 * 3, 0, 0]])
    torch.testing.assert_close(out, expected)


def test_scale_gets_gradients_for_the_drawn_cut_offs_only() -> None:
    drop = NestedDropout(4, keep=0.5, scaled=True)
    assert drop.scale is not None
    code = torch.ones(3, 4)
    drop.cut(code, torch.tensor([1, 4, 1])).sum().backward()
    assert drop.scale.grad is not None
    # s_1 scales one kept value in each of two rows; s_4 four values; s_2, s_3 were not drawn
    torch.testing.assert_close(drop.scale.grad, torch.tensor([2.0, 0.0, 0.0, 4.0]))
    assert [name for name, _ in drop.named_parameters()] == ["scale"]
    assert not list(NestedDropout(4, keep=0.5).parameters())


def test_nested_dropout_in_eval_keeps_every_dimension() -> None:
    """Whole codes; scaled by s_D when scaled, as a training row that kept all D dimensions."""
    code = torch.randn(16, 6, generator=seeded())
    assert torch.equal(NestedDropout(6, keep=0.3).eval()(code), code)
    drop = NestedDropout(6, keep=0.3, scaled=True).eval()
    assert drop.scale is not None
    with torch.no_grad():
        drop.scale.copy_(torch.arange(1.0, 7.0))
    torch.testing.assert_close(drop(code), code * 6)
    full = torch.full((16,), 6)
    torch.testing.assert_close(drop(code), drop.cut(code, full))


def test_nested_dropout_forward_is_cut_of_draw_under_the_same_seed() -> None:
    drop = NestedDropout(8, keep=0.6, scaled=True).train()
    assert drop.scale is not None
    with torch.no_grad():
        drop.scale.copy_(torch.arange(1.0, 9.0))
    code = torch.randn(64, 8, generator=seeded())
    torch.manual_seed(3)
    out = drop(code)
    torch.manual_seed(3)
    expected = drop.cut(code, drop.draw(64))
    assert torch.equal(out, expected)
    assert not torch.equal(out, code)  # something was cut or scaled
    assert (out[:, -1] == 0).any()  # some rows lost their last dimension
