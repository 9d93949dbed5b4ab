"""``animestyle explore``: every picture of Sec. 6 from a trained StyleContentGAN checkpoint."""

from __future__ import annotations

import math
from pathlib import Path

import torch
from tqdm import tqdm

from animestyle.data.datamodule import AnimeFacesDataModule, SyntheticSource
from animestyle.images import save_grid
from animestyle.inference import load_checkpoint
from animestyle.methods.style_space.explore import (
    SIGMAS,
    dimension_sweep,
    random_styles,
    rank_by_dimension,
    style_interpolation,
    transfer_grid,
)
from animestyle.methods.style_space.gan import StyleContentGAN

__all__ = ["explore"]

_FIX = "train one with animestyle fit --config examples/style_space/<size>/gan.yaml"


def explore(
    checkpoint: str,
    output: str = "explore",
    manifest: str | None = None,
    folder: str | None = None,
    synthetic_seed: int = 0,
    num_images: int = 8,
    dims: list[int] | None = None,
    ranked_from: int = 1024,
    seed: int = 0,
) -> list[Path]:
    """Draw random styles, a style interpolation, one sweep per style dimension beside the
    training images ranked lowest and highest on it, reconstructions and transfers.

    Images come from the data the GAN was trained on: ``manifest`` or ``folder``, else the
    synthetic portraits (``synthetic_seed``) with the checkpoint's number of artists.

    Args:
        checkpoint: a StyleContentGAN ``.ckpt``.
        output: folder for the PNGs (created).
        manifest: a ``manifest.csv`` written by ``animestyle prepare``.
        folder: a folder of ``<artist>/<crop>.png``.
        synthetic_seed: seed of the synthetic portraits, when neither is given.
        num_images: contents, styles and sweep rows per picture.
        dims: style dimensions to sweep (0-based); default all kept ones.
        ranked_from: training images ranked on each swept dimension.
        seed: seed of the random codes.

    Returns:
        The PNGs written.
    """
    gan, record = load_checkpoint(checkpoint, ("StyleContentGAN",), fix=_FIX)
    source = None if manifest or folder else SyntheticSource(num_artists=record["num_artists"], seed=synthetic_seed)
    data = AnimeFacesDataModule(
        manifest=manifest, folder=folder, synthetic=source, image_size=record["image_size"], batch_size=64
    )
    out = Path(output)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    with torch.no_grad():
        x = data.on_after_batch_transfer(next(iter(data.val_dataloader())), 0)["x"][:num_images]
        style, content = gan.codes(x)
        written.append(save_grid(random_styles(gan, content, num_images, seed), out / "random_styles.png"))
        noise = torch.Generator().manual_seed(seed)
        corners = torch.cat([style[:4], torch.randn(max(0, 4 - len(style)), gan.style_dims, generator=noise)])
        written.append(save_grid(style_interpolation(gan, corners, content[0]), out / "interpolation.png"))
        written.append(save_grid(torch.stack([x, gan.generate(style, content)], 1), out / "reconstruction.png"))
        written.append(save_grid(transfer_grid(gan, x, x), out / "transfer.png"))
        images, styles = _ranked_images(gan, data, ranked_from)
        z = torch.randn(num_images, gan.code_dim, generator=noise)
        for dim in tqdm(dims if dims is not None else range(gan.style_dims), desc="sweeps", unit="dim"):
            sweep = dimension_sweep(gan, dim, z, SIGMAS)
            lowest, highest = rank_by_dimension(styles, dim, len(SIGMAS))
            ranked = torch.stack([images[lowest], images[highest].flip(0)])  # low to high, left to right
            written.append(save_grid(torch.cat([sweep, ranked]), out / f"sweep_dim{dim:02d}.png"))
    return written


def _ranked_images(gan: StyleContentGAN, data: AnimeFacesDataModule, count: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Up to ``count`` training images (N, 3, S, S) and their standardised styles (N, k)."""
    images, styles = [], []
    seen = 0
    loader = data.train_dataloader()
    batches = min(len(loader), math.ceil(count / data.batch_size))
    for batch in tqdm(loader, total=batches, desc="ranking training images", unit="batch", leave=False):
        x = data.on_after_batch_transfer(batch, 0)["x"]
        images.append(x)
        styles.append(gan.codes(x)[0])
        seen += len(x)
        if seen >= count:
            break
    return torch.cat(images)[:count], torch.cat(styles)[:count]
