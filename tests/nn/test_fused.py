"""The compiled elementwise tails (animestyle.nn.fused) compute what the eager blocks do."""

import copy

import pytest
import torch

from animestyle.nn import BusBlock, ResidualDown, ResidualSame, ResidualUp, fuse_elementwise
from animestyle.nn import fused as fused_kernels
from animestyle.nn.residual import Mix


def _trained_like(block: torch.nn.Module) -> torch.nn.Module:
    """The block with its scales and slopes moved off their initial values, so that a wrong
    gradient or a dropped term shows."""
    torch.manual_seed(1)
    with torch.no_grad():
        for name, p in block.named_parameters():
            if "scale" in name or "prelu" in name:
                p.add_(0.3 * torch.randn_like(p))
    return block


@pytest.mark.parametrize(
    ("make", "kernel"),
    [
        (lambda: ResidualDown(3, 8, 0.4), "prelu_mix"),
        (lambda: ResidualSame(8, 0.3), "prelu_mix"),
        (lambda: ResidualUp(8, 5, 0.5), "prelu_mix"),
        (lambda: BusBlock(8), "attention_pool"),
    ],
    ids=["down", "same", "up", "bus"],
)
def test_fused_block_matches_eager_outputs_and_gradients(make, kernel: str, monkeypatch: pytest.MonkeyPatch) -> None:
    asked = []  # the kernels the fused block asks to be compiled: it does not fall back to eager
    compiled = fused_kernels.compiled
    monkeypatch.setattr(fused_kernels, "compiled", lambda f: asked.append(f.__name__) or compiled(f))
    torch.manual_seed(0)
    eager = _trained_like(make())
    fused = copy.deepcopy(eager)
    fuse_elementwise(fused)
    assert all(m.fused for m in fused.modules() if isinstance(m, Mix))
    channels = eager.conv.in_channels if hasattr(eager, "conv") else 8
    for batch in (2, 3):  # a second shape: the compiled kernel turns dynamic
        x = torch.randn(batch, channels, 8, 8)
        outputs = []
        for block in (eager, fused):
            block.zero_grad(set_to_none=True)
            xi = x.clone().requires_grad_(True)
            y = block(xi)
            (y * torch.linspace(-1, 1, y.numel()).view_as(y)).sum().backward()
            outputs.append((y.detach(), xi.grad, {n: p.grad for n, p in block.named_parameters()}))
        (y0, gx0, g0), (y1, gx1, g1) = outputs
        torch.testing.assert_close(y1, y0, rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(gx1, gx0, rtol=1e-4, atol=1e-5)
        assert g0.keys() == g1.keys()
        for name in g0:
            torch.testing.assert_close(g1[name], g0[name], rtol=1e-4, atol=1e-5, msg=name)
    assert kernel in asked


def test_fuse_elementwise_can_be_turned_off() -> None:
    block = ResidualSame(4)
    fuse_elementwise(block)
    fuse_elementwise(block, on=False)
    assert not block.mix.fused


def test_a_fused_graph_can_be_backpropagated_twice() -> None:
    """``retain_graph=True`` through the compiled kernels (GADN's ``c1_update="together"``)."""
    torch.manual_seed(0)
    block = torch.nn.Sequential(ResidualSame(4), BusBlock(4))
    fuse_elementwise(block)
    x = torch.randn(2, 4, 8, 8, requires_grad=True)
    y = block(x).square().mean()
    (first,) = torch.autograd.grad(y, x, retain_graph=True)
    (second,) = torch.autograd.grad(y, x)
    torch.testing.assert_close(second, first)
