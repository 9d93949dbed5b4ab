"""Train/eval mode for a block of code: the one way every method, metric and tool runs
networks for pictures and scores without disturbing training."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from torch import nn

__all__ = ["eval_mode"]


@contextmanager
def eval_mode(*modules: object) -> Iterator[None]:
    """Every ``nn.Module`` among ``modules`` in eval mode inside the block; afterwards, even
    when the block raises, every submodule has the mode it had before (a frozen part kept in
    eval mode inside a training network stays so). Objects that are not modules (a stub
    scorer, a plain function) are passed over. Gradients are untouched: add
    ``torch.no_grad()`` where none are wanted."""
    networks = [m for m in modules if isinstance(m, nn.Module)]
    modes = [(m, m.training) for network in networks for m in network.modules()]
    for network in networks:
        network.eval()
    try:
        yield
    finally:
        for m, mode in modes:
            m.training = mode
