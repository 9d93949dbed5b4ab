"""``animestyle transfer``: the style of a style image onto content images, with a trained
DualDiscriminatorNST or EncoderDiscriminatorNST checkpoint."""

from __future__ import annotations

from pathlib import Path

import torch

from animestyle.images import save_grid
from animestyle.inference import load_checkpoint, load_images
from animestyle.tools.files import distinct_stems, write_all

__all__ = ["transfer"]

_METHODS = ("DualDiscriminatorNST", "EncoderDiscriminatorNST")
_FIX = (
    "train one with animestyle fit --config examples/nst/synthetic64/dual.yaml (or encoder.yaml, "
    "or the danbooru128 configs)"
)


@torch.no_grad()
def transfer(
    checkpoint: str,
    *,  # keyword-only: the command line takes them as --content, --style, ...
    content: list[str],
    style: str,
    output: str = "transferred",
    grid: bool = True,
) -> list[Path]:
    """Draw content images in the style of a style image: ``--content '[a.png, b.png]' --style s.png``.

    Every image is resized to the checkpoint's image size (transparent pixels mid grey, as
    in training); all are read before anything is written.

    Args:
        checkpoint: a DualDiscriminatorNST or EncoderDiscriminatorNST ``.ckpt``.
        content: PNG or JPEG files of faces (crops like the training data).
        style: the style image (a face by the artist whose style to copy).
        output: folder (created) for ``<stem>_<style stem>.png`` per content image and
            ``transfers.png``.
        grid: also write ``transfers.png`` (rows: content images; columns: content, style, transfer).

    Returns:
        the PNGs written.
    """
    if not content:
        raise ValueError("content is empty: give content images, e.g. --content '[a.png, b.png]'")
    stems = distinct_stems(content, "content images", f"<stem>_{Path(style).stem}.png")
    model, record = load_checkpoint(checkpoint, _METHODS, fix=_FIX)
    x = load_images(content, record["image_size"])
    reference = load_images([style], record["image_size"])
    transferred = model.transfer(x, reference)
    out = Path(output)
    out.mkdir(parents=True, exist_ok=True)
    suffix = Path(style).stem
    written = [save_grid(transferred[k, None, None], out / f"{stem}_{suffix}.png") for k, stem in enumerate(stems)]
    if grid:
        columns = torch.stack([x, reference.expand_as(x), transferred], 1)
        written.append(save_grid(columns, out / "transfers.png"))
    return write_all(written)
