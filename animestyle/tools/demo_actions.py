"""The logic of ``animestyle demo``'s page, as plain functions: a picture and the choices on
the page in, pictures and a message out. Nothing here imports Gradio (the page in
:mod:`animestyle.tools.demo` only wires these to widgets), and nothing raises: bad input
(not an image, a huge file, no face found, a wrong choice) comes back as a message, so the
server keeps serving.

The page adapts to :meth:`Model.operations`: a model that redraws by artist gets a dropdown of
its artists, one that copies a style image gets a style-image upload, and an attribute editor
one toggle per attribute.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image, ImageOps

from animestyle.inference import Model, restyle_faces

__all__ = ["KEEP", "MAX_BYTES", "MAX_PIXELS", "DemoResult", "choices", "restyle"]

MAX_BYTES = 25 * 2**20  # an upload larger than this is refused before it is read
MAX_PIXELS = 40_000_000  # and a picture of more pixels (a decompression bomb, a poster scan)
STRIP = 6  # pictures in the strip: the input, then up to 5 artists or attributes
STRIP_CELL = 128  # pixels: the side of each picture in the strip
KEEP, ON, OFF = "keep", "on", "off"  # an attribute toggle's states


@dataclass(frozen=True)
class DemoResult:
    """What the page shows after a run.

    Attributes:
        input: the uploaded picture as read (RGBA), or None when it could not be read.
        result: the restyled picture at the input's size, or None on failure.
        strip: the same content (the picture, or its first face) in several artists or with
            each attribute flipped, side by side at the model's size; None on failure.
        message: one line for the page: what was done, or what is wrong and how to fix it.
        ok: whether the picture was restyled.
    """

    input: Image.Image | None = None
    result: Image.Image | None = None
    strip: Image.Image | None = None
    message: str = ""
    ok: bool = False


def choices(model: Model) -> dict[str, Any]:
    """What the page offers for ``model``: ``{"artists": [...], "reference": bool,
    "attributes": [...]}`` (an empty list or False where the model cannot)."""
    can = model.operations()
    return {
        "artists": list(model.artists) if "transfer(images, artist=...)" in can else [],
        "reference": "transfer(images, reference=...)" in can,
        "attributes": list(model.attributes) if "edit(images, <attribute>=True/False, ...)" in can else [],
    }


def _read(path: str | Path | Image.Image | None, what: str) -> Image.Image:
    """An uploaded file as an RGBA picture; ValueError with a message for the page."""
    if path is None:
        raise ValueError(f"upload {what} first")
    if isinstance(path, Image.Image):
        picture = path
    else:
        size = Path(path).stat().st_size
        if size > MAX_BYTES:
            raise ValueError(f"{what} is {size / 2**20:.0f} MB; the demo takes files up to {MAX_BYTES // 2**20} MB")
        unreadable = f"{what} is not an image that can be read (PNG, JPEG, WebP, ...)"
        try:
            with Image.open(path) as opened:  # the header first: the pixel count before the pixels
                pixels = opened.width * opened.height
                read = opened.convert("RGBA") if pixels <= MAX_PIXELS else None
        except (OSError, ValueError, Image.DecompressionBombError):
            raise ValueError(unreadable) from None
        if read is None:
            raise ValueError(f"{what} has {pixels / 1e6:.0f} M pixels; the demo takes up to {MAX_PIXELS // 10**6} M")
        picture = read
    return picture.convert("RGBA")


def _operation(model: Model, artist: str | None, reference: Image.Image | None, attributes: dict[str, bool]) -> Any:
    """faces (a list of PIL pictures) -> restyled faces, for the chosen target."""
    if attributes:
        return lambda faces: model.edit(faces, **attributes)
    if reference is not None:
        return lambda faces: model.transfer(faces, reference=reference)
    return lambda faces: model.transfer(faces, artist=artist)


def _target(
    model: Model, artist: str | None, reference: Any, toggles: dict[str, str] | None
) -> tuple[str | None, Image.Image | None, dict[str, bool]]:
    """The chosen target, checked against what the model can do."""
    offered = choices(model)
    attributes = {name: state == ON for name, state in (toggles or {}).items() if state != KEEP}
    if offered["attributes"]:
        unknown = [name for name in attributes if name not in offered["attributes"]]
        if unknown:
            raise ValueError(f"unknown attributes {unknown}; this editor knows {offered['attributes']}")
        if not attributes:
            raise ValueError("switch at least one attribute on or off")
        return None, None, attributes
    if artist and offered["artists"]:
        model.artist_index(artist)  # ValueError naming the closest names
        return artist, None, {}
    if reference is not None and offered["reference"]:
        return None, _read(reference, "the style image"), {}
    if offered["artists"]:
        raise ValueError("choose an artist")
    if offered["reference"]:
        raise ValueError("upload a style image")
    raise ValueError(f"this {model.method} neither transfers nor edits; give the demo a model that does")


def _strip(
    model: Model, face: Image.Image, artist: str | None, style: Image.Image | None, attributes: dict[str, bool]
) -> Image.Image:
    """``face``, then the same face redrawn by up to ``STRIP - 1`` artists (the chosen one first),
    with each of the first attributes flipped, or in the chosen style, side by side in cells of
    ``STRIP_CELL`` pixels (pictures padded to squares, never squashed)."""
    if attributes or (model.attributes and not model.artists):
        read = model.read_attributes([face])[0] > 0.5
        names = model.attributes[: STRIP - 1]
        columns = [model.edit(face, **{name: not bool(read[j])}) for j, name in enumerate(names)]
    elif artist is not None:
        names = [artist] + [name for name in model.artists if name != artist]
        columns = [model.transfer(face, artist=name) for name in names[: STRIP - 1]]
    else:
        columns = [model.transfer(face, reference=style)] if style is not None else []
    strip = Image.new("RGB", (STRIP_CELL * (1 + len(columns)), STRIP_CELL), "white")
    for k, picture in enumerate([face, *columns]):
        rgba = picture.convert("RGBA")
        flat = Image.alpha_composite(Image.new("RGBA", rgba.size, "white"), rgba).convert("RGB")
        cell = ImageOps.pad(flat, (STRIP_CELL, STRIP_CELL), Image.Resampling.NEAREST, color="white")
        strip.paste(cell, (k * STRIP_CELL, 0))
    return strip


def restyle(
    model: Model,
    picture: str | Path | Image.Image | None,
    *,
    artist: str | None = None,
    reference: str | Path | Image.Image | None = None,
    attributes: dict[str, str] | None = None,
    faces: bool = False,
    threshold: float = 0.5,
) -> DemoResult:
    """The page's one action: ``picture`` restyled as chosen, never an exception.

    Args:
        model: from :func:`animestyle.load`.
        picture: an image file or picture of any size.
        artist: an artist's name (models that redraw by artist).
        reference: a style image (models that copy a style image); ignored when ``artist`` is given.
        attributes: ``{attribute: "keep" | "on" | "off"}`` (the attribute editor).
        faces: find the faces and restyle only them, pasted back into the whole picture, as
            ``animestyle transfer --faces``; otherwise the picture is one face crop.
        threshold: the face detector's least likelihood.
    """
    try:
        image = _read(picture, "the illustration")
    except (ValueError, OSError) as error:
        return DemoResult(message=str(error))
    try:
        chosen_artist, style, changes = _target(model, artist, reference, attributes)
        operation = _operation(model, chosen_artist, style, changes)
        if faces:
            done = restyle_faces(model, image, operation, threshold=threshold)
            if not done.faces:
                return DemoResult(image, message="no face found: lower the threshold, or switch faces off")
            result, first = done.image, done.crops[0]
            message = f"restyled {done.faces} face{'s' * (done.faces > 1)}"
        else:
            result, first, message = operation([image])[0], image, "restyled the picture as one face crop"
        return DemoResult(image, result, _strip(model, first, chosen_artist, style, changes), message, ok=True)
    except (ValueError, RuntimeError) as error:  # a wrong choice, or no face detector here: say so
        return DemoResult(image, message=str(error))
