"""The global random streams in a checkpoint, so that a resumed run continues exactly: the
same noise, shuffles and augmentations as one that never stopped. Every method (through
``AnimeStyleModule``) and the synthetic oracle save them."""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any, cast

import lightning as L
import numpy as np
import torch

__all__ = ["ResumesRandomState", "rng_state", "set_rng_state"]


def rng_state() -> dict[str, Any]:
    """The global random streams (torch, CUDA, NumPy, Python) in types that
    ``torch.load(weights_only=True)`` reads (Lightning's default when resuming): tensors,
    numbers, strings and tuples, no NumPy arrays."""
    numpy_state = cast(tuple[str, np.ndarray, int, int, float], np.random.get_state())  # noqa: NPY002
    name, keys, position, has_gauss, cached_gaussian = numpy_state  # the global stream seed_everything seeds
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "numpy": (name, torch.from_numpy(keys.astype(np.int64)), int(position), int(has_gauss), float(cached_gaussian)),
        "python": random.getstate(),
    }


def set_rng_state(state: Mapping[str, Any]) -> None:
    """Restore what :func:`rng_state` returned; CUDA only onto as many devices as it had."""
    torch.set_rng_state(state["torch"])
    if state["cuda"] and torch.cuda.is_available() and len(state["cuda"]) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(state["cuda"])
    name, keys, *rest = state["numpy"]
    np.random.set_state((name, np.asarray(keys, dtype=np.int64).astype(np.uint32), *rest))  # noqa: NPY002
    random.setstate(state["python"])


class ResumesRandomState(L.LightningModule):
    """A LightningModule whose checkpoints hold the random streams (``checkpoint["rng"]``)
    and whose resumed runs restore them."""

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint["rng"] = rng_state()

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """Resume the random streams (noise, shuffling) exactly where the checkpoint left them."""
        state = checkpoint.get("rng")
        if not state or self._trainer is None:  # load_from_checkpoint for inference: leave RNG alone
            return
        set_rng_state(state)
