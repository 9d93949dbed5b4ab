"""Realism as judged by AnimeFace 2009, a detector trained on real anime faces."""

import numpy as np
import PIL
import pytest

from animestyle.data.synthetic import SyntheticPortraits

animeface = pytest.importorskip("animeface", reason="animeface has wheels for Linux x86-64 and macOS only")


def test_pillow_is_one_that_animeface_can_read() -> None:
    """animeface silently finds no face with Pillow 12+; the project pins Pillow below 12."""
    assert int(PIL.__version__.split(".")[0]) < 12


def test_the_detector_finds_a_face_in_most_portraits() -> None:
    """8 artists x 6 portraits at 256 px (benchmarks/synthetic_realism.py measures more)."""
    data = SyntheticPortraits(length=48, num_artists=8, size=256, seed=0, split="test")
    found = np.array([len(animeface.detect(data.image(i))) > 0 for i in range(len(data))])
    per_artist = found.reshape(6, 8).mean(axis=0)
    assert found.mean() >= 0.8, per_artist
    assert per_artist.min() >= 0.5, per_artist


def test_the_detected_face_is_where_the_face_is() -> None:
    data = SyntheticPortraits(length=6, num_artists=3, size=256, seed=0, split="test", jitter=0.0)
    for i in range(len(data)):
        faces = animeface.detect(data.image(i))
        if faces:
            box = faces[0].face.pos
            centre_x, centre_y = box.x + box.width / 2, box.y + box.height / 2
            assert 64 < centre_x < 192
            assert 48 < centre_y < 200
