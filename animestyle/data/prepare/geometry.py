"""Upright square face crops with transparent outside pixels (the GADN papers' crops).

A crop is placed by the two eyes: the line between them is turned horizontal, the square is
centred on their midpoint (or moved up the face by ``lift``), and its side is a multiple of
the detected face width.
Pixels of the square that fall outside the source picture get alpha 0.

Coordinates are continuous pixel coordinates: pixel (i, j) covers [i, i+1) x [j, j+1).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from PIL import Image

__all__ = ["CropBox", "crop_box", "face_mask", "paste_back", "upright_crop"]


@dataclass(frozen=True)
class CropBox:
    """A square in a source image.

    Attributes:
        centre: (x, y) of the square's centre, source pixels.
        side: side length, source pixels.
        angle: radians by which the square is turned in the source (the eye line's slope,
            positive when the right-hand eye is lower); the crop turns it back upright.
    """

    centre: tuple[float, float]
    side: float
    angle: float


def crop_box(
    eye_left: tuple[float, float],
    eye_right: tuple[float, float],
    face_width: float,
    scale: float = 1.9,
    lift: float = 0.0,
) -> CropBox:
    """The crop square of a face.

    Args:
        eye_left: centre of the eye on the image's left (the character's right eye).
        eye_right: centre of the eye on the image's right.
        face_width: width of the detected face box, source pixels.
        scale: side of the square as a multiple of ``face_width``. AnimeFace's face box
            spans about the eyes to the chin; 1.9 shows the whole head, hair included, with
            the eyes at mid-height (on synthetic portraits the box is 131 px wide in a
            256 px head-and-shoulders frame).
        lift: how far the centre sits above the eyes' midpoint, as a fraction of the side
            ("above" in the upright face); negative moves it down.
    """
    if not scale > 0 or not face_width > 0:
        raise ValueError(f"scale={scale!r} and face_width={face_width!r} must be > 0")
    angle = math.atan2(eye_right[1] - eye_left[1], eye_right[0] - eye_left[0])
    side = scale * face_width
    up = (math.sin(angle), -math.cos(angle))  # the upright face's "up" in source coordinates
    mid_x, mid_y = (eye_left[0] + eye_right[0]) / 2, (eye_left[1] + eye_right[1]) / 2
    return CropBox((mid_x + lift * side * up[0], mid_y + lift * side * up[1]), side, angle)


def upright_crop(image: Image.Image, box: CropBox, size: int) -> Image.Image:
    """Cut ``box`` out of ``image``, turn it upright and resize it to ``size`` x ``size``.

    Args:
        image: the source picture, any mode; its own transparency is kept.
        box: the square to cut (see :func:`crop_box`).
        size: output side in pixels.

    Returns:
        An RGBA image; pixels outside the source picture have alpha 0 (and black colour).
        The square is sampled at its own resolution with bicubic interpolation, then
        downsized by area averaging (no ringing: alpha stays exactly 0 outside the picture),
        on premultiplied colour so that edges do not darken or bleed.
    """
    if size < 1:
        raise ValueError(f"size={size!r} must be >= 1")
    # Only the picture under the (turned) square matters: convert just that region.
    reach = box.side * math.sqrt(0.5) + 2
    left, top = max(0, math.floor(box.centre[0] - reach)), max(0, math.floor(box.centre[1] - reach))
    right = min(image.width, math.ceil(box.centre[0] + reach))
    bottom = min(image.height, math.ceil(box.centre[1] + reach))
    if right <= left or bottom <= top:  # the square misses the picture entirely
        return Image.new("RGBA", (size, size), (0, 0, 0, 0))
    source = image.crop((left, top, right, bottom)).convert("RGBA").convert("RGBa")
    work = max(size, math.ceil(box.side))  # sample at least at the square's own resolution
    k = box.side / work  # source pixels per working pixel
    c, s = math.cos(box.angle), math.sin(box.angle)
    cx, cy = box.centre[0] - left, box.centre[1] - top
    half = work / 2
    # Working pixel (X, Y) -> source (cx, cy) + k * ((X - half) * (c, s) + (Y - half) * (-s, c)).
    affine = (k * c, -k * s, cx - k * half * (c - s), k * s, k * c, cy - k * half * (s + c))
    square = source.transform(
        (work, work), Image.Transform.AFFINE, affine, resample=Image.Resampling.BICUBIC, fillcolor=(0, 0, 0, 0)
    )
    if work != size:
        square = square.resize((size, size), Image.Resampling.BOX)
    return square.convert("RGBA")


def paste_back(picture: Image.Image, face: Image.Image, box: CropBox, feather: float = 0.12) -> Image.Image:
    """The inverse of :func:`upright_crop`: ``face`` (an upright square crop of ``box``, any
    size, e.g. restyled) turned back and pasted into a copy of ``picture``.

    The face is blended in with a soft mask that falls linearly from 1 to 0 over the outer
    ``feather`` of the square's side (0: a hard edge); pixels outside the turned square are
    untouched, and the picture keeps its own mode and transparency.

    Args:
        picture: the source picture the crop was cut from.
        face: the square crop to put back (its alpha, if any, is ignored: where the crop fell
            outside the picture nothing is pasted anyway).
        box: the square it was cut from (see :func:`crop_box`).
        feather: width of the soft edge, as a fraction of the side, in [0, 0.5].
    """
    if not 0 <= feather <= 0.5:
        raise ValueError(f"feather={feather!r} must be in [0, 0.5]")
    reach = box.side * math.sqrt(0.5) + 2
    left, top = max(0, math.floor(box.centre[0] - reach)), max(0, math.floor(box.centre[1] - reach))
    right = min(picture.width, math.ceil(box.centre[0] + reach))
    bottom = min(picture.height, math.ceil(box.centre[1] + reach))
    if right <= left or bottom <= top:  # the square misses the picture entirely
        return picture.copy()
    size = face.width
    k = box.side / size  # source pixels per face pixel
    c, s = math.cos(box.angle), math.sin(box.angle)
    dx, dy = left - box.centre[0], top - box.centre[1]
    half = size / 2
    # Region pixel (u, v) -> face (half, half) + ((d . (c, s)), (d . (-s, c))) / k, d = (u, v) + (dx, dy).
    affine = (c / k, s / k, half + (c * dx + s * dy) / k, -s / k, c / k, half + (-s * dx + c * dy) / k)
    region = (right - left, bottom - top)
    colour = face.convert("RGB").transform(region, Image.Transform.AFFINE, affine, resample=Image.Resampling.BICUBIC)
    mask = face_mask(size, feather).transform(
        region, Image.Transform.AFFINE, affine, resample=Image.Resampling.BILINEAR
    )
    result = picture.copy()
    target = result.crop((left, top, right, bottom))
    blended = target.convert("RGB")
    blended.paste(colour, (0, 0), mask)
    if target.mode in ("RGBA", "LA", "PA") or "transparency" in target.info:
        blended = blended.convert("RGBA")
        blended.putalpha(target.convert("RGBA").getchannel("A"))
    result.paste(blended.convert(result.mode), (left, top))
    return result


def face_mask(size: int, feather: float) -> Image.Image:
    """A ``size`` x ``size`` mode-L mask: 255 inside, falling linearly to 0 over the outer
    ``feather`` of the side (0 outside the square)."""
    ramp = max(feather * size, 1e-6)
    centres = [min(i + 0.5, size - i - 0.5) for i in range(size)]  # distance of each pixel centre to the edge
    line = [max(0.0, min(1.0, d / ramp)) for d in centres]
    data = bytes(round(255 * min(a, b)) for b in line for a in line)
    return Image.frombytes("L", (size, size), data)
