"""Image files in and out: the one place that turns a PNG or JPEG into the tensor a model
reads, and a grid of tensors back into a PNG. Used by every floor (callbacks draw grids,
tools read users' images), so it imports nothing from the package."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torchvision.utils import make_grid, save_image

__all__ = ["load_image", "save_grid"]


def load_image(path: str | Path, size: int) -> torch.Tensor:
    """An image file as the models see it: (3, size, size) float32 RGB in [-1, 1].

    Resized by area averaging of premultiplied colour, and transparent pixels set to mid
    grey (0), as the data module prepares training crops.

    Raises:
        ValueError: naming the file, when it is missing or not a readable image.
    """
    try:
        with Image.open(path) as opened:
            image = opened.convert("RGBA")
    except (OSError, ValueError, Image.DecompressionBombError) as error:  # missing, truncated, not an image
        raise ValueError(f"cannot read image {str(path)!r}: {error}") from None
    if image.size != (size, size):
        image = image.convert("RGBa").resize((size, size), Image.Resampling.BOX).convert("RGBA")
    pixels = torch.from_numpy(np.asarray(image, dtype=np.float32).copy()).permute(2, 0, 1)
    return (pixels[:3] / 127.5 - 1) * (pixels[3:] / 255)


def save_grid(
    grid: torch.Tensor, path: str | Path, to_display: Callable[[torch.Tensor], torch.Tensor] | None = None
) -> Path:
    """Write ``grid`` (rows, cols, C, H, W), in [-1, 1], as one PNG with 1-pixel gaps.

    ``to_display`` turns a batch of images into RGB (e.g. the DataModule's, for Lab data);
    by default the first 3 channels are shown."""
    images = grid.flatten(0, 1).float()
    images = (to_display(images) if to_display is not None else images[:, :3]).clamp(-1, 1)
    picture = make_grid(images, nrow=grid.shape[1], padding=1, normalize=True, value_range=(-1, 1))
    save_image(picture, path)
    return Path(path)
