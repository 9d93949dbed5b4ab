"""``animestyle explore``: the pictures of a trained style-space GAN (the session's tiny ``gan_run``
and ``stages`` of ``tests/fixtures.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from animestyle.methods import CheckpointError
from animestyle.tools import explore
from tests.fixtures import GanRun


def test_explore_writes_the_pngs_it_returns(gan_run: GanRun, tmp_path: Path) -> None:
    out = tmp_path / "pictures"
    written = explore(str(gan_run.checkpoint), str(out), num_images=2, dims=[0], ranked_from=32)
    names = ["random_styles", "interpolation", "reconstruction", "transfer", "sweep_dim00"]
    assert written == [out / f"{name}.png" for name in names]
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{name}.png" for name in names)
    # (rows, cols) of 32 px images with 1-pixel gaps: 33 n + 1
    shapes = {"random_styles": (2, 2), "interpolation": (5, 5), "reconstruction": (2, 2), "transfer": (2, 2)}
    shapes["sweep_dim00"] = (2 + 2, 5)  # two sweeps, then the lowest and highest ranked images
    for name, (rows, cols) in shapes.items():
        with Image.open(out / f"{name}.png") as picture:
            assert picture.size == (33 * cols + 1, 33 * rows + 1), name


def test_explore_refuses_a_checkpoint_of_another_stage(stages: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match=r"checkpoint=.* is a StyleConditionedVAE checkpoint"):
        explore(str(stages["vae"]), str(tmp_path / "out"))
    assert not (tmp_path / "out").exists()
