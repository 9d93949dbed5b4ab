"""``animestyle edit``: edit attributes of face images, or of the faces in whole illustrations,
with a trained AttributeEditor checkpoint, through :func:`animestyle.load`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from PIL import Image

from animestyle.data.prepare.detect import require_detector
from animestyle.images import save_grid
from animestyle.inference import load, open_picture, restyle_faces
from animestyle.tools.files import distinct_stems, image_files, opaque, write_all

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
    images: list[str] | str,
    changes: dict[str, float],
    output: str = "edited",
    strength: float = 1.0,
    faces: bool = False,
    threshold: float = 0.5,
    grid: bool = True,
    device: str | None = None,
) -> list[Path]:
    """Edit attributes of face images: ``--images '[a.png, faces/]' --changes '{"blush": 1}'``.

    Without ``--faces`` each image is taken as one face crop: a picture that is not square is
    padded with transparent pixels (never squashed) and the result has the picture's size.
    Its own attributes are read by the editor's discriminator (probability > 0.5) and
    printed; attributes not named keep their value, and a colour switched on switches the
    others of its group off. With ``--faces`` each image is a whole illustration: AnimeFace
    finds its faces (as ``animestyle prepare`` does; needs the prepare extra), each face is
    cut out upright, edited and blended back; an illustration in which no face is found is
    skipped (nothing written for it) and listed at the end.

    Every input is checked before anything is written.

    Args:
        checkpoint: an AttributeEditor ``.ckpt``.
        images: image files (PNG, JPEG, ...) and folders (every image in them, sorted): one
            path, or a list ``'[a.png, b.png, faces/]'``.
        changes: attribute name -> value in [0, 1] (1 on, 0 off).
        output: folder (created) for ``<stem>_edited.png`` per image and ``before_after.png``.
        strength: scale of the attribute difference (1: as trained; more exaggerates).
        faces: find the faces in whole illustrations (AnimeFace, as ``animestyle prepare``;
            needs the prepare extra), edit only them and blend them back into the whole
            picture; an illustration with no face found is skipped (nothing written for it)
            and listed at the end.
        threshold: with ``--faces``, the smallest detector likelihood of a face.
        grid: also write ``before_after.png`` (rows: images; columns: before, after; each
            padded to a square at the model's size).
        device: where to run the model (default: CUDA when available, else the CPU).

    Returns:
        the PNGs written.
    """
    files = image_files([images] if isinstance(images, str) else images, "images")
    if faces:
        require_detector()
    model = load(checkpoint, device)
    if "edit(images, <attribute>=True/False, ...)" not in model.operations():
        raise ValueError(f"{model.method} checkpoints cannot edit attributes; {_FIX}")
    _check_changes(changes, model.attributes)
    stems = distinct_stems(files, "images", "<stem>_edited.png")
    pictures = [open_picture(path) for path in files]

    settings: dict[str, Any] = dict(changes)
    missed: list[str] = []
    results: dict[int, Image.Image] = {}
    if faces:
        for k, picture in enumerate(pictures):
            done = restyle_faces(
                model, picture, lambda crops: model.edit(crops, strength, **settings), threshold=threshold
            )
            if done.faces:
                results[k] = done.image
                print(f"{files[k]}: {done.faces} face{'s' if done.faces > 1 else ''} edited")
            else:
                missed.append(files[k])
    else:
        source = model.read_attributes(pictures) > 0.5
        for file, row in zip(files, source, strict=True):
            on = [n for n, v in zip(model.attributes, row.tolist(), strict=True) if v]
            print(f"{file}: source attributes read: {', '.join(on) if on else '(none)'}")
        results = dict(enumerate(model.edit(pictures, strength, **settings)))

    out = Path(output)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for k, image in results.items():
        path = out / f"{stems[k]}_edited.png"
        opaque(image).save(path)
        written.append(path)
    if grid and results:
        keys = list(results)
        before, after = model.tensors([pictures[k] for k in keys]), model.tensors([results[k] for k in keys])
        written.append(save_grid(torch.stack([before, after], 1), out / "before_after.png"))
    write_all(written)
    if missed:
        print(f"no face found in {len(missed)} of {len(files)} images (nothing written for them): {', '.join(missed)}")
    return written
