"""``animestyle edit``: edit attributes of face images with a trained AttributeEditor checkpoint."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image

from animestyle.callbacks.samples import save_grid
from animestyle.methods.attribute_editor import AttributeEditor
from animestyle.methods.base import read_checkpoint

__all__ = ["distinct_stems", "edit", "load_image"]

_FIX = "train one with animestyle fit --config <yaml> (model.class_path: animestyle.methods.AttributeEditor)"


def load_image(path: str | Path, size: int) -> torch.Tensor:
    """An image file as the editor sees it: (3, size, size) float32 RGB in [-1, 1].

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


def distinct_stems(paths: list[str], argument: str, output: str) -> list[str]:
    """The file names (without suffix) of ``paths``; ValueError naming ``argument`` when two
    share one, since their outputs (``output``, e.g. ``<stem>_edited.png``) would collide."""
    stems = [Path(p).stem for p in paths]
    repeated = sorted({s for s in stems if stems.count(s) > 1})
    if repeated:
        raise ValueError(f"{argument} {repeated} share a file name: their outputs {output} would collide")
    return stems


def _check_changes(changes: dict[str, float], known: list[str]) -> None:
    if not changes:
        raise ValueError(f'changes is empty: name attributes to set, e.g. {{"{known[0]}": 1}}; known: {known}')
    for name, value in changes.items():
        if name not in known:
            raise ValueError(f"unknown attribute {name!r} in changes; this editor knows {known}")
        if not 0 <= value <= 1:
            raise ValueError(f"changes[{name!r}]={value}: attribute values are in [0, 1] (0 off, 1 on)")


@torch.no_grad()
def edit(
    checkpoint: str,
    *,  # keyword-only: the command line takes them as --images and --changes
    images: list[str],
    changes: dict[str, float],
    output: str = "edited",
    strength: float = 1.0,
    grid: bool = True,
) -> list[Path]:
    """Edit attributes of face images: ``--changes '{"blush": 1, "pink_hair": 1}'``.

    Each image is resized to the checkpoint's image size; its own attributes are read by the
    editor's discriminator (probability > 0.5) and printed; attributes not named keep their
    value, and a colour switched on switches the others of its group off.

    Args:
        checkpoint: an AttributeEditor ``.ckpt``.
        images: PNG or JPEG files of faces (crops like the training data).
        changes: attribute name -> value in [0, 1] (1 on, 0 off).
        output: folder (created) for ``<stem>_edited.png`` per image and ``before_after.png``.
        strength: scale of the attribute difference (1: as trained; more exaggerates).
        grid: also write ``before_after.png`` (rows: images; columns: before, after).

    Returns:
        the PNGs written.
    """
    record = read_checkpoint(checkpoint, "checkpoint", ("AttributeEditor",), _FIX)["animestyle"]
    names = list(record["attribute_names"])
    _check_changes(changes, names)
    if not images:
        raise ValueError("images is empty: give face images to edit, e.g. --images '[a.png, b.png]'")
    stems = distinct_stems(images, "images", "<stem>_edited.png")
    x = torch.stack([load_image(p, record["image_size"]) for p in images])  # every file read before any work
    editor = AttributeEditor.load_from_checkpoint(checkpoint, map_location="cpu", weights_only=True).eval()
    source = (editor.predict_attributes(x) > 0.5).to(x.dtype)
    for path, row in zip(images, source, strict=True):
        on = [n for n, v in zip(names, row.tolist(), strict=True) if v]
        print(f"{path}: source attributes read: {', '.join(on) if on else '(none)'}")
    edited = editor.edit(x, changes, source, strength)
    out = Path(output)
    out.mkdir(parents=True, exist_ok=True)
    written = [save_grid(edited[k, None, None], out / f"{stem}_edited.png", None) for k, stem in enumerate(stems)]
    if grid:
        written.append(save_grid(torch.stack([x, edited], 1), out / "before_after.png"))
    for file in written:
        print(f"wrote {file}")
    return written
