"""``animestyle transfer``: the style of a style image onto content images, with a trained
DualDiscriminatorNST or EncoderDiscriminatorNST checkpoint."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from animestyle.callbacks.samples import save_grid
from animestyle.methods.base import read_checkpoint
from animestyle.methods.edit_tool import distinct_stems, load_image
from animestyle.methods.nst.common import ReferenceTransferModule
from animestyle.methods.nst.dual import DualDiscriminatorNST
from animestyle.methods.nst.encoder import EncoderDiscriminatorNST

__all__ = ["load_nst", "transfer"]

_METHODS: dict[str, type[ReferenceTransferModule]] = {
    "DualDiscriminatorNST": DualDiscriminatorNST,
    "EncoderDiscriminatorNST": EncoderDiscriminatorNST,
}
_FIX = (
    "train one with animestyle fit --config examples/nst/synthetic64/dual.yaml (or encoder.yaml, "
    "or the danbooru128 configs)"
)


def load_nst(checkpoint: str | Path) -> tuple[ReferenceTransferModule, dict[str, Any]]:
    """The model of a checkpoint of either approach, in eval mode on the CPU, and its record
    (``method``, ``image_size``, ``num_artists``, ...).

    Raises:
        CheckpointError: naming the file, when it is missing, unreadable or of another method.
    """
    saved = read_checkpoint(checkpoint, "checkpoint", tuple(_METHODS), _FIX)
    record = saved["animestyle"]
    # the checkpoint holds the style backbone's weights: its source file need not exist here
    overrides = {"style_weights": None} if "style_weights" in saved.get("hyper_parameters", {}) else {}
    model = _METHODS[record["method"]].load_from_checkpoint(
        checkpoint, map_location="cpu", weights_only=True, **overrides
    )
    return model.eval(), record


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
    model, record = load_nst(checkpoint)
    size = record["image_size"]
    x = torch.stack([load_image(p, size) for p in content])
    reference = load_image(style, size)[None]
    transferred = model.transfer(x, reference)
    out = Path(output)
    out.mkdir(parents=True, exist_ok=True)
    suffix = Path(style).stem
    written = [save_grid(transferred[k, None, None], out / f"{stem}_{suffix}.png") for k, stem in enumerate(stems)]
    if grid:
        columns = torch.stack([x, reference.expand_as(x), transferred], 1)
        written.append(save_grid(columns, out / "transfers.png"))
    for file in written:
        print(f"wrote {file}")
    return written
