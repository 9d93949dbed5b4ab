"""Anime face detection with AnimeFace 2009 (the ``animeface`` package), as the papers did.

``animeface`` comes with the ``prepare`` extra (``pip install 'animestyle[prepare]'``),
with the Pillow pin it needs. It reads Pillow's internal image structure. With Pillow 12 or later it silently
finds no face at all (0 faces on 36 real illustrations with Pillow 12 and 13, against 37
faces in 33 of them with Pillow 11.3), which would look like "no faces in your data".
:func:`require_detector` therefore refuses to run under Pillow 12+.

Detection costs about 0.23 s for a 512 px image on one core and grows with the pixel count,
so large illustrations are searched on a downscaled copy and the faces mapped back.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType

import PIL
from PIL import Image

__all__ = ["Face", "detect_faces", "require_detector"]


@dataclass(frozen=True)
class Face:
    """A detected face, in pixels of the original image.

    Attributes:
        box: (x, y, width, height) of the face.
        eye_left: centre of the eye on the image's left (the character's right eye).
        eye_right: centre of the eye on the image's right.
        likelihood: the detector's confidence, 0 to 1.
    """

    box: tuple[float, float, float, float]
    eye_left: tuple[float, float]
    eye_right: tuple[float, float]
    likelihood: float


def require_detector() -> ModuleType:
    """The ``animeface`` module, or RuntimeError saying why it cannot run here."""
    major = int(PIL.__version__.split(".")[0])
    if major >= 12:
        raise RuntimeError(
            f"the face detector (animeface) finds no faces with Pillow {PIL.__version__}: it reads Pillow "
            "internals that changed in Pillow 12, and fails silently. Install the prepare extra, which "
            "brings the detector with a Pillow it can read: pip install 'animestyle[prepare]' "
            "(from a clone: pip install -e '.[prepare]')"
        )
    try:
        return importlib.import_module("animeface")
    except ImportError as error:
        raise RuntimeError(
            "animestyle prepare needs the face detector (animeface; wheels for Linux x86-64 and macOS), which "
            "the prepare extra installs: pip install 'animestyle[prepare]' (from a clone: pip install -e '.[prepare]')"
        ) from error


def _centre(box: object) -> tuple[float, float]:
    pos = box.pos  # type: ignore[attr-defined]
    return (pos.x + pos.width / 2, pos.y + pos.height / 2)


def detect_faces(image: Image.Image, threshold: float = 0.5, max_side: int = 512) -> list[Face]:
    """Faces in ``image`` with likelihood at least ``threshold``, most likely first.

    Args:
        image: any PIL image; it is searched as RGB on a white background.
        threshold: smallest likelihood kept.
        max_side: images larger than this are searched on a copy downscaled to it; the
            faces are mapped back to the original's pixels.
    """
    animeface = require_detector()
    rgb = image
    if image.mode != "RGB":
        rgb = Image.new("RGB", image.size, (255, 255, 255))
        rgb.paste(image.convert("RGBA"), mask=image.convert("RGBA").getchannel("A"))
    factor = max(rgb.size) / max_side
    if factor > 1:
        rgb = rgb.resize((round(rgb.width / factor), round(rgb.height / factor)), Image.Resampling.BILINEAR)
    else:
        factor = 1.0
    faces = []
    for found in animeface.detect(rgb):
        if found.likelihood < threshold:
            continue
        pos = found.face.pos
        (lx, ly), (rx, ry) = _centre(found.right_eye), _centre(found.left_eye)  # right_eye is on the image's left
        faces.append(
            Face(
                box=(pos.x * factor, pos.y * factor, pos.width * factor, pos.height * factor),
                eye_left=(lx * factor, ly * factor),
                eye_right=(rx * factor, ry * factor),
                likelihood=float(found.likelihood),
            )
        )
    return sorted(faces, key=lambda face: -face.likelihood)
