"""The random streams kept as they were around a callback's work, so that a run draws the same
batches and noise with or without the callback."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch

__all__ = ["random_state_kept"]


@contextmanager
def random_state_kept(device: torch.device) -> Iterator[None]:
    """Run the block without advancing torch's CPU stream or ``device``'s CUDA stream."""
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        yield
