"""Gated convolution and selective transfer unit: shapes, gate ranges, the formulas, gradients
and input checks."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from animestyle.nn import GatedConv2d, SelectiveTransferUnit


def seeded(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def assert_every_parameter_learns(module: nn.Module) -> None:
    for name, p in module.named_parameters():
        assert p.grad is not None, name
        assert p.grad.abs().sum() > 0, name


# --- GatedConv2d ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kernel", "stride", "padding", "size"),
    [(4, 2, 1, 8), (3, 1, 1, 16), (1, 1, 0, 16)],
)
@pytest.mark.parametrize("norm", ["batch", "instance", "none"])
def test_gated_conv_shapes_and_gate_range(kernel: int, stride: int, padding: int, size: int, norm: str) -> None:
    conv = GatedConv2d(3, 5, kernel, stride, padding, norm=norm)  # type: ignore[arg-type]
    x = torch.randn(2, 3, 16, 16, generator=seeded()) * 3
    y, gate = conv(x), conv.gate(x)
    assert y.shape == gate.shape == (2, 5, size, size)
    assert torch.isfinite(y).all()
    assert (gate >= 0).all()
    assert (gate <= 1).all()


@pytest.mark.parametrize(
    ("activation", "phi"), [("leaky_relu", nn.LeakyReLU(0.2)), ("relu", nn.ReLU()), ("none", None)]
)
def test_gated_conv_is_the_activated_feature_times_the_gate(activation: str, phi: nn.Module | None) -> None:
    conv = GatedConv2d(3, 4, norm="none", activation=activation)  # type: ignore[arg-type]
    x = torch.randn(2, 3, 8, 8, generator=seeded())
    feature = conv.feature(x)
    expected = (feature if phi is None else phi(feature)) * torch.sigmoid(conv.gating(x))
    torch.testing.assert_close(conv(x), expected)
    torch.testing.assert_close(conv.gate(x), torch.sigmoid(conv.gating(x)))


def test_gated_conv_normalises_the_feature_branch_only() -> None:
    conv = GatedConv2d(3, 4, norm="batch", activation="none")
    x = torch.randn(8, 3, 8, 8, generator=seeded()) * 5 + 2
    normed = conv.norm(conv.feature(x))
    # batch norm at initialisation: per-channel mean 0 and std 1 over the batch
    torch.testing.assert_close(normed.mean((0, 2, 3)), torch.zeros(4), atol=1e-5, rtol=0)
    torch.testing.assert_close(conv(x), normed * conv.gate(x))
    assert conv.feature.bias is None  # a bias before the norm would be a dead parameter
    assert isinstance(GatedConv2d(3, 4, norm="instance").norm, nn.InstanceNorm2d)


@pytest.mark.parametrize("norm", ["batch", "instance", "none"])
def test_gated_conv_gradients_reach_every_parameter(norm: str) -> None:
    conv = GatedConv2d(3, 4, norm=norm)  # type: ignore[arg-type]
    x = torch.randn(4, 3, 8, 8, generator=seeded())
    (conv(x) * torch.randn(4, 4, 4, 4, generator=seeded(1))).sum().backward()
    assert_every_parameter_learns(conv)


def test_gated_conv_refuses_unknown_options() -> None:
    with pytest.raises(ValueError, match="norm='layer'"):
        GatedConv2d(3, 4, norm="layer")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="activation='gelu'"):
        GatedConv2d(3, 4, activation="gelu")  # type: ignore[arg-type]


# --- SelectiveTransferUnit -----------------------------------------------------------------


def stu_inputs(batch: int = 2, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    g = seeded(seed)
    feature = torch.randn(batch, 6, 8, 8, generator=g)
    state = torch.randn(batch, 10, 4, 4, generator=g)
    diff = torch.randint(-1, 2, (batch, 3), generator=g).float()
    return feature, state, diff


def test_stu_shapes() -> None:
    stu = SelectiveTransferUnit(6, 10, 3)
    out, state_out = stu(*stu_inputs())
    assert out.shape == state_out.shape == (2, 6, 8, 8)
    assert torch.isfinite(out).all()


def test_stu_gates_are_in_unit_range_and_make_the_output() -> None:
    torch.manual_seed(0)
    stu = SelectiveTransferUnit(6, 10, 3)
    feature, state, diff = stu_inputs()
    r, z = stu.gates(feature, state, diff * 5)
    assert r.shape == z.shape == (2, 6, 8, 8)
    for gate in (r, z):
        assert (gate >= 0).all()
        assert (gate <= 1).all()
    # the formulas, written out from the unit's parameters
    tiled = diff[:, :, None, None].expand(-1, -1, 4, 4)
    state_hat = stu.upsample(torch.cat([state, tiled], 1))
    r, z = stu.gates(feature, state, diff)
    new = torch.tanh(stu.candidate(torch.cat([feature, r * state_hat], 1)))
    out, state_out = stu(feature, state, diff)
    torch.testing.assert_close(state_out, r * state_hat)
    torch.testing.assert_close(out, (1 - z) * state_hat + z * new)


def test_stu_output_depends_on_the_difference_vector() -> None:
    stu = SelectiveTransferUnit(6, 10, 3)
    feature, state, diff = stu_inputs()
    out, _ = stu(feature, state, diff)
    other, _ = stu(feature, state, -diff + 0.5)
    assert not torch.allclose(out, other)


def test_stu_gradients_reach_every_parameter_and_the_inputs() -> None:
    stu = SelectiveTransferUnit(6, 10, 3)
    feature, state, diff = (t.requires_grad_(True) for t in stu_inputs())
    out, state_out = stu(feature, state, diff)
    weights = torch.randn(2, 2, 6, 8, 8, generator=seeded(1))
    (out * weights[0] + state_out * weights[1]).sum().backward()
    assert_every_parameter_learns(stu)
    for name, t in (("feature", feature), ("state", state), ("diff", diff)):
        assert t.grad is not None, name
        assert (t.grad != 0).any(), name


@pytest.mark.parametrize(
    ("feature", "state", "diff", "match"),
    [
        ((2, 5, 8, 8), (2, 10, 4, 4), (2, 3), "feature must be"),
        ((2, 6, 8), (2, 10, 4, 4), (2, 3), "feature must be"),
        ((2, 6, 8, 8), (2, 9, 4, 4), (2, 3), "state must be"),
        ((2, 6, 8, 8), (2, 10, 8, 8), (2, 3), "state must be"),
        ((2, 6, 8, 8), (3, 10, 4, 4), (2, 3), "state must be"),
        ((2, 6, 9, 9), (2, 10, 4, 4), (2, 3), "state must be"),
        ((2, 6, 8, 8), (2, 10, 4, 4), (2, 4), "diff must be"),
        ((2, 6, 8, 8), (2, 10, 4, 4), (3, 3), "diff must be"),
        ((2, 6, 8, 8), (2, 10, 4, 4), (2, 3, 1), "diff must be"),
    ],
)
def test_stu_refuses_bad_shapes(feature: tuple, state: tuple, diff: tuple, match: str) -> None:
    stu = SelectiveTransferUnit(6, 10, 3)
    with pytest.raises(ValueError, match=match):
        stu(torch.zeros(feature), torch.zeros(state), torch.zeros(diff))
    with pytest.raises(ValueError, match=match):
        stu.gates(torch.zeros(feature), torch.zeros(state), torch.zeros(diff))


def test_stu_refuses_an_even_kernel() -> None:
    with pytest.raises(ValueError, match="kernel_size=4"):
        SelectiveTransferUnit(6, 10, 3, kernel_size=4)
