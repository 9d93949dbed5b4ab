import pytest
from PIL import Image

from animestyle.data.prepare import detect
from animestyle.data.synthetic import SyntheticPortraits

pytest.importorskip("animeface", reason="animeface has wheels for Linux x86-64 and macOS only")


def test_faces_found_on_a_downscaled_copy_map_back_to_the_original() -> None:
    portrait = SyntheticPortraits(length=1, num_artists=1, size=256, seed=1, split="test", jitter=0.0).image(0)
    (direct,) = detect.detect_faces(portrait, max_side=512)
    (scaled,) = detect.detect_faces(portrait.resize((1024, 1024), Image.Resampling.LANCZOS), max_side=256)
    for a, b in zip(direct.box, scaled.box, strict=True):
        assert b == pytest.approx(4 * a, abs=12)  # same face, in the 4x larger picture's pixels
    assert scaled.eye_left[0] < scaled.eye_right[0]


def test_transparent_pictures_are_searched_on_white() -> None:
    portrait = SyntheticPortraits(length=1, num_artists=1, size=256, seed=1, split="test").image(0).convert("RGBA")
    assert detect.detect_faces(portrait)
