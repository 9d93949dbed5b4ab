"""Trained models from files: the one place that turns a checkpoint into a ready model, and
image files into the batches it reads. Every tool (``animestyle transfer``, ``edit``,
``explore``, the reports) loads through here.

Layers: this module sits above :mod:`animestyle.methods` and below :mod:`animestyle.tools`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from animestyle.images import load_image
from animestyle.methods import (
    AttributeClassifier,
    AttributeEditor,
    DualDiscriminatorNST,
    EncoderDiscriminatorNST,
    GADNClassifierPretrain,
    GADNStage1,
    GADNStage2,
    MetricStyleEncoder,
    StyleConditionedVAE,
    StyleContentGAN,
)
from animestyle.methods.base import AnimeStyleModule, read_checkpoint

__all__ = ["METHODS", "load", "load_checkpoint", "load_images"]

METHODS: dict[str, type[AnimeStyleModule]] = {
    method.__name__: method
    for method in (
        GADNStage1,
        GADNClassifierPretrain,
        GADNStage2,
        MetricStyleEncoder,
        StyleConditionedVAE,
        StyleContentGAN,
        AttributeEditor,
        AttributeClassifier,
        DualDiscriminatorNST,
        EncoderDiscriminatorNST,
    )
}
"""Every method whose checkpoints load, by the name a checkpoint records."""

_FIX = "give a .ckpt written by animestyle fit (outputs/<method>/.../checkpoints/last.ckpt)"


def load_checkpoint(
    path: str | Path,
    methods: Sequence[str] = tuple(METHODS),
    *,
    argument: str = "checkpoint",
    fix: str = _FIX,
) -> tuple[Any, dict[str, Any]]:
    """The model of a checkpoint written by one of ``methods``, in eval mode on the CPU, and
    its record (``method``, ``image_size``, ``num_artists``, ...).

    Read with ``weights_only=True``: a checkpoint cannot run code. Files the model was built
    from (a pretrained backbone's weights, an earlier stage's checkpoint) need not exist any
    more: the checkpoint holds their weights.

    Args:
        path: the ``.ckpt`` file.
        methods: the method class names accepted (default: all).
        argument: the name of the argument that gave ``path``, for the error.
        fix: what the user should do instead, for the error.

    Raises:
        CheckpointError: naming ``argument`` and the file, when it is missing, unreadable,
            not an animestyle checkpoint or of another method.
    """
    saved = read_checkpoint(path, argument, tuple(methods), fix)
    record = saved["animestyle"]
    overrides = {"style_weights": None} if "style_weights" in saved.get("hyper_parameters", {}) else {}
    model = METHODS[record["method"]].load_from_checkpoint(path, map_location="cpu", weights_only=True, **overrides)
    return model.eval(), record


def load(path: str | Path, device: str | torch.device | None = None) -> Any:
    """The trained model of any animestyle checkpoint, in eval mode, on ``device``.

    Args:
        path: a ``.ckpt`` written by ``animestyle fit`` for any method of :data:`METHODS`.
        device: where to put it; None: CUDA when available, else the CPU.

    Returns:
        the method's LightningModule (e.g. a :class:`~animestyle.methods.GADNStage2`), whose
        ``transfer``, ``edit`` or ``encode`` methods the method pages describe.

    Raises:
        CheckpointError: when the file is missing, unreadable or not an animestyle checkpoint.
    """
    model, _ = load_checkpoint(path)
    return model.to(device if device is not None else ("cuda" if torch.cuda.is_available() else "cpu"))


def load_images(paths: Sequence[str | Path], size: int) -> torch.Tensor:
    """Image files as one batch (N, 3, size, size) in [-1, 1], transparent pixels mid grey:
    every file is read before any work starts, so a bad one stops the command before it
    writes anything.

    Raises:
        ValueError: naming the first file that is missing or not a readable image.
    """
    return torch.stack([load_image(p, size) for p in paths])
