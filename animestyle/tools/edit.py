"""``animestyle edit``: edit attributes of face images with a trained AttributeEditor checkpoint."""

from __future__ import annotations

from pathlib import Path

import torch

from animestyle.images import save_grid
from animestyle.inference import load_checkpoint, load_images
from animestyle.tools.files import distinct_stems, write_all

__all__ = ["edit"]

_FIX = "train one with animestyle fit --config <yaml> (model.class_path: animestyle.methods.AttributeEditor)"


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
    if not images:
        raise ValueError("images is empty: give face images to edit, e.g. --images '[a.png, b.png]'")
    stems = distinct_stems(images, "images", "<stem>_edited.png")
    editor, record = load_checkpoint(checkpoint, ("AttributeEditor",), fix=_FIX)
    names = list(record["attribute_names"])
    _check_changes(changes, names)
    x = load_images(images, record["image_size"])
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
    return write_all(written)
