"""The elementwise tails of GADN's blocks, run eagerly or as compiled kernels (opt-in).

A residual block's activation and mix (``StandardisedPReLU`` then ``Mix``) are five
elementwise passes forward and about ten backward in eager PyTorch, the bus block's pooling
four; on a CPU they cost as much as a good part of the convolutions. ``torch.compile`` fuses
each direction into one pass (:func:`compiled`); the blocks run the same functions eagerly
when not fused, so the two cannot drift apart. The convolutions stay eager (oneDNN / cuDNN),
so the FLOPs are unchanged. Needs a C++ compiler on a CPU (Triton on a GPU), and compiles once per process
(seconds to a minute).
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import torch
import torch.nn.functional as F

__all__ = ["attention_pool", "compiled", "mix", "prelu_mix", "standardised_prelu"]


def mix(
    residual: torch.Tensor, shortcut: torch.Tensor, residual_scale: torch.Tensor, shortcut_scale: torch.Tensor
) -> torch.Tensor:
    """``residual * residual_scale + shortcut * shortcut_scale`` (per-channel scales (1, C, 1, 1))."""
    return torch.addcmul(shortcut * shortcut_scale, residual, residual_scale)


def standardised_prelu(z: torch.Tensor, slope: torch.Tensor, shift: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """``(prelu(z, slope) - shift) * scale`` (:class:`~animestyle.nn.StandardisedPReLU`):
    (B, C, ...) -> same shape."""
    return (F.prelu(z, slope) - shift) * scale


def prelu_mix(
    z: torch.Tensor,
    shortcut: torch.Tensor,
    slope: torch.Tensor,
    shift: torch.Tensor,
    scale: torch.Tensor,
    residual_scale: torch.Tensor,
    shortcut_scale: torch.Tensor,
) -> torch.Tensor:
    """:func:`mix` of :func:`standardised_prelu` of ``z`` and ``shortcut``:
    (B, C, H, W) twice -> (B, C, H, W)."""
    return mix(standardised_prelu(z, slope, shift, scale), shortcut, residual_scale, shortcut_scale)


def attention_pool(value: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """Per channel, the mean of ``value`` over positions weighted by ``softplus(weight)``:
    (B, C, N) twice -> (B, C) (the bus block's pooling)."""
    w = F.softplus(weight)
    return (value * w).sum(2) / (w.sum(2) + 1e-4)


@functools.cache
def compiled(function: Callable[..., torch.Tensor]) -> Callable[..., torch.Tensor]:
    """``torch.compile(function)`` with dynamic shapes, made once per process: one kernel
    serves every block of every width and size (static shapes would recompile per width and
    fall back to eager after eight).

    It turns off torch's donated buffers for the process (``torch._functorch.config``; they
    only save memory), so that a graph through the kernels can be backpropagated twice
    (``retain_graph=True``, as GADN's ``c1_update="together"`` does): torch reads the
    setting when it compiles and again when the backward runs, so it cannot be scoped to
    these kernels."""
    import torch._functorch.config

    torch._functorch.config.donated_buffer = False
    return torch.compile(function, dynamic=True)
