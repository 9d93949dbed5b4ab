"""Pasting a (restyled) upright face crop back into its picture: the inverse of the crop."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PIL import Image

from animestyle.data.prepare.geometry import CropBox, face_mask, paste_back, upright_crop


def _picture() -> Image.Image:
    """A 160 x 120 picture with smooth gradients (resampling errors stay small)."""
    y, x = np.mgrid[0:120, 0:160]
    pixels = np.stack([x * 1.5, y * 2.0, (x + y) * 0.9], -1).clip(0, 255).astype(np.uint8)
    return Image.fromarray(pixels)


def _outside(box: CropBox, shape: tuple[int, int]) -> np.ndarray:
    """Pixels whose centres lie farther from ``box``'s centre than its corners (+2 px)."""
    y, x = np.mgrid[0 : shape[0], 0 : shape[1]] + 0.5
    return np.hypot(x - box.centre[0], y - box.centre[1]) > box.side * math.sqrt(0.5) + 2


def test_pasting_an_unchanged_crop_back_gives_the_picture_back() -> None:
    picture = _picture()
    box = CropBox(centre=(70.0, 55.0), side=60.0, angle=math.radians(20))
    crop = upright_crop(picture, box, 60)
    back = np.asarray(paste_back(picture, crop, box), dtype=np.int16)
    original = np.asarray(picture, dtype=np.int16)
    assert back.shape == original.shape
    assert np.abs(back - original).max() <= 6  # two resamplings of a smooth picture
    outside = _outside(box, original.shape[:2])
    assert (back[outside] == original[outside]).all()  # exactly unchanged away from the face


def test_a_pasted_face_is_turned_back_and_blended_at_the_edge() -> None:
    picture = _picture().convert("RGBA")
    picture.putpixel((0, 0), (0, 0, 0, 0))  # the picture's own transparency is kept
    box = CropBox(centre=(80.0, 60.0), side=50.0, angle=math.radians(-30))
    red = Image.new("RGB", (25, 25), (255, 0, 0))
    back = paste_back(picture, red, box, feather=0.2)
    assert back.mode == "RGBA"
    assert back.size == picture.size
    assert back.getpixel((80, 60)) == (255, 0, 0, 255)  # the middle of the face: all face
    assert back.getpixel((0, 0)) == (0, 0, 0, 0)
    # along the turned square's "right" axis: face inside, a blend at the edge, the picture beyond
    c, s = math.cos(box.angle), math.sin(box.angle)
    at = [(round(80 + t * c), round(60 + t * s)) for t in (10, 23, 30)]
    after, before = np.asarray(back), np.asarray(picture)
    inner, edge, beyond = (after[y, x] for x, y in at)
    assert inner.tolist() == [255, 0, 0, 255]
    assert edge.tolist() != before[at[1][1], at[1][0]].tolist()
    assert edge[:3].tolist() != [255, 0, 0]
    assert beyond.tolist() == before[at[2][1], at[2][0]].tolist()
    outside = _outside(box, (picture.height, picture.width))
    assert (np.asarray(back)[outside] == np.asarray(picture)[outside]).all()


def test_the_mask_is_full_inside_and_falls_to_zero_at_the_edge() -> None:
    mask = np.asarray(face_mask(40, 0.25))
    assert mask[20, 20] == 255
    assert mask[12, 27] == 255
    assert mask[0, 20] < 20
    assert mask[20, 39] < 20
    assert mask[0, 0] < 20
    assert (np.diff(mask[20, :20].astype(int)) >= 0).all()
    assert (np.asarray(face_mask(8, 0.0)) == 255).all()  # a hard edge


def test_a_square_off_the_picture_changes_nothing() -> None:
    picture = _picture()
    box = CropBox(centre=(-500.0, -500.0), side=40.0, angle=0.0)
    assert np.array_equal(np.asarray(paste_back(picture, Image.new("RGB", (8, 8)), box)), np.asarray(picture))
    with pytest.raises(ValueError, match="feather"):
        paste_back(picture, Image.new("RGB", (8, 8)), box, feather=0.7)
