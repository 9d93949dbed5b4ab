"""``animestyle transfer``: image files redrawn by an artist of a model's training data (GADN)
or in the style of a style image (the style-space VAE and GAN, both approaches of conditional
adversarial style transfer), through :func:`animestyle.load`; whole illustrations with
``--faces``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from PIL import Image

from animestyle.data.prepare.detect import require_detector
from animestyle.images import save_grid
from animestyle.inference import Model, load, open_picture, restyle_faces
from animestyle.methods.base import CheckpointError
from animestyle.tools.files import distinct_stems, image_files, opaque, safe_name, write_all

__all__ = ["transfer"]

_TRAIN = (
    "animestyle fit --config examples/gadn/synthetic32/stage1.yaml (GADN, --artist) or "
    "examples/nst/synthetic64/dual.yaml (style transfer, --style)"
)
_BY_ARTIST = "GADNStage1 or GADNStage2"
_BY_STYLE = "StyleConditionedVAE, StyleContentGAN, DualDiscriminatorNST or EncoderDiscriminatorNST"


def check_transfer(model: Model, artist: str | None, style: str | None) -> None:
    """ValueError when ``model`` cannot transfer the way asked (``--artist`` or ``--style``)."""
    can = model.operations()
    by_artist, by_style = "transfer(images, artist=...)" in can, "transfer(images, reference=...)" in can
    if not (by_artist or by_style):
        raise ValueError(
            f"{model.method} checkpoints cannot transfer styles; give a checkpoint of {_BY_ARTIST} "
            f"(with --artist) or of {_BY_STYLE} (with --style)"
        )
    if (artist is None) == (style is None):
        how = "--artist NAME_OR_INDEX" if by_artist else "--style IMAGE"
        raise ValueError(f"give either --artist or --style, not both or neither: this {model.method} takes {how}")
    if artist is not None and not by_artist:
        raise ValueError(
            f"--artist is for models that redraw by an artist of their training data ({_BY_ARTIST}); "
            f"this {model.method} copies the style of a style image: give --style IMAGE instead"
        )
    if style is not None and not by_style:
        raise ValueError(
            f"--style is for models that copy the style of a style image ({_BY_STYLE}); this {model.method} "
            f"redraws by an artist of its training data: give --artist NAME_OR_INDEX instead "
            f"(it knows {len(model.artists)}, e.g. {model.artists[:3]})"
        )


@torch.no_grad()
def transfer(
    checkpoint: str,
    *,  # keyword-only: the command line takes them as --content, --artist, --style, ...
    content: list[str] | str,
    artist: str | None = None,
    style: str | None = None,
    output: str = "transferred",
    faces: bool = False,
    threshold: float = 0.5,
    grid: bool = True,
    device: str | None = None,
) -> list[Path]:
    """Redraw images by an artist (``--artist NAME_OR_INDEX``) or like a style image (``--style s.png``).

    ``--artist`` is for GADN checkpoints, ``--style`` for the style-space VAE and GAN and both
    style-transfer approaches; ``--content '[a.png, faces/]'`` takes files and folders.

    Without ``--faces`` each image is taken as one face crop: a picture that is not square is
    padded with transparent pixels (never squashed) and the result has the picture's size.
    With ``--faces`` each image is a whole illustration of any size: AnimeFace finds its faces
    (as ``animestyle prepare`` does; needs the prepare extra), each face is cut out upright,
    redrawn and blended back, and the rest of the picture is left as it was. An illustration
    in which no face is found is skipped (nothing written for it) and listed at the end.

    Every input (the checkpoint's kind, the artist, every image, the output names) is checked
    before anything is written.

    Args:
        checkpoint: a ``.ckpt`` of GADNStage1/2 (with ``--artist``) or StyleConditionedVAE,
            StyleContentGAN, DualDiscriminatorNST or EncoderDiscriminatorNST (with ``--style``).
        content: image files (PNG, JPEG, ...) and folders (every image in them, sorted): one
            path, or a list ``'[a.png, b.png, faces/]'``.
        artist: an artist of the model's training data, by name or index.
        style: the style image (a face by the artist whose style to copy).
        output: folder (created) for ``<stem>_<artist or style stem>.png`` per image and
            ``transfers.png``.
        faces: find the faces in whole illustrations (AnimeFace, as ``animestyle prepare``;
            needs the prepare extra), redraw only them and blend them back into the whole
            picture; an illustration with no face found is skipped (nothing written for it)
            and listed at the end.
        threshold: with ``--faces``, the smallest detector likelihood of a face.
        grid: also write ``transfers.png`` (rows: images; columns: image, [style,] result;
            each padded to a square at the model's size).
        device: where to run the model (default: CUDA when available, else the CPU).

    Returns:
        the PNGs written.
    """
    given = [content] if isinstance(content, str) else content
    names = "<stem>_<artist or style stem>.png"
    distinct_stems([p for p in given if not Path(p).is_dir()], "content images", names)  # before the slow load
    if faces:
        require_detector()
    try:
        model = load(checkpoint, device)
    except CheckpointError as error:
        raise CheckpointError(f"{error}; to train one: {_TRAIN}") from None
    files = image_files(given, "content")
    stems = distinct_stems(files, "content images", names)
    check_transfer(model, artist, style)
    pictures = [open_picture(path) for path in files]
    options: dict[str, Any]
    if artist is not None:
        name = model.artists[model.artist_index(artist)]
        options, suffix = {"artist": name}, safe_name(name)
    else:
        assert style is not None  # checked above
        options, suffix = {"reference": open_picture(style)}, Path(style).stem

    missed: list[str] = []
    results: dict[int, Image.Image] = {}
    if faces:
        for k, picture in enumerate(pictures):
            done = restyle_faces(model, picture, lambda crops: model.transfer(crops, **options), threshold=threshold)
            if done.faces:
                results[k] = done.image
                print(f"{files[k]}: {done.faces} face{'s' if done.faces > 1 else ''} redrawn")
            else:
                missed.append(files[k])
    else:
        results = dict(enumerate(model.transfer(pictures, **options)))

    out = Path(output)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for k, image in results.items():
        path = out / f"{stems[k]}_{suffix}.png"
        opaque(image).save(path)
        written.append(path)
    if grid and results:
        done_keys = list(results)
        columns = [model.tensors([pictures[k] for k in done_keys])]
        if style is not None:
            columns.append(model.tensors([options["reference"]]).expand_as(columns[0]))
        columns.append(model.tensors([results[k] for k in done_keys]))
        written.append(save_grid(torch.stack(columns, 1), out / "transfers.png"))
    write_all(written)
    if missed:
        print(f"no face found in {len(missed)} of {len(files)} images (nothing written for them): {', '.join(missed)}")
    return written
