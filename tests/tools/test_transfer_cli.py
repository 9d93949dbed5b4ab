"""``animestyle transfer`` through :func:`animestyle.load`: every method that transfers, images
of any shape, whole illustrations with ``--faces``, and one line for each bad input."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from animestyle.cli import main
from animestyle.data.synthetic import SyntheticPortraits

BACKGROUND = (120, 170, 200)


def _illustration() -> Image.Image:
    """A 256 px synthetic portrait turned by 20 degrees on a 520 x 400 canvas of flat colour."""
    portrait = SyntheticPortraits(length=1, num_artists=1, size=256, seed=1, split="test", jitter=0.0).image(0)
    turned = portrait.convert("RGB").rotate(20, Image.Resampling.BICUBIC, expand=True, fillcolor=BACKGROUND)
    canvas = Image.new("RGB", (520, 400), BACKGROUND)
    canvas.paste(turned, (40, 20))
    return canvas


def _run(*args: str) -> None:
    main(["transfer", *args])


def test_faces_in_a_whole_illustration_are_redrawn_and_the_rest_kept(
    stage1: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("animeface", reason="animeface has wheels for Linux x86-64 and macOS only")
    from animestyle.data.prepare.detect import detect_faces
    from animestyle.data.prepare.geometry import crop_box

    folder = tmp_path / "in"
    folder.mkdir()
    picture = _illustration()
    picture.save(folder / "scene.png")
    Image.new("RGB", (90, 60), BACKGROUND).save(folder / "empty.png")  # no face in it
    out = tmp_path / "out"
    _run(str(stage1), "--content", json.dumps([str(folder)]), "--artist", "artist_0002", "--faces", "true",
         "--output", str(out))  # fmt: skip
    printed = capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == ["scene_artist_0002.png", "transfers.png"]
    assert "no face found in 1 of 2 images" in printed
    assert "empty.png" in printed
    with Image.open(out / "scene_artist_0002.png") as written:
        assert written.size == picture.size
        result = np.asarray(written.convert("RGB"), dtype=np.int16)
    original = np.asarray(picture, dtype=np.int16)
    (face,) = detect_faces(picture)
    box = crop_box(face.eye_left, face.eye_right, face.box[2])
    y, x = np.mgrid[0 : picture.height, 0 : picture.width] + 0.5
    distance = np.hypot(x - box.centre[0], y - box.centre[1])
    far = distance > box.side * math.sqrt(0.5) + 2
    assert far.mean() > 0.3
    assert np.abs(result[far] - original[far]).max() <= 1  # away from the face: unchanged
    near = distance < box.side * 0.3
    assert np.abs(result[near] - original[near]).mean() > 5  # the face: redrawn


def test_pictures_of_any_shape_keep_their_size(stage1: Path, nst: Path, tmp_path: Path) -> None:
    portraits = SyntheticPortraits(length=2, num_artists=2, size=48, seed=0)
    wide = portraits.image(0).convert("RGB").crop((0, 8, 48, 40))  # 48 x 32
    wide.save(tmp_path / "wide.png")
    portraits.image(1).save(tmp_path / "style.png")
    _run(str(stage1), "--content", json.dumps([str(tmp_path / "wide.png")]), "--artist", "1",
         "--output", str(tmp_path / "gadn"))  # fmt: skip
    with Image.open(tmp_path / "gadn" / "wide_artist_0001.png") as written:
        assert written.size == (48, 32)
    assert (tmp_path / "gadn" / "transfers.png").is_file()
    _run(str(nst), "--content", str(tmp_path / "wide.png"), "--style", str(tmp_path / "style.png"),
         "--output", str(tmp_path / "nst"), "--grid", "false")  # fmt: skip
    assert [p.name for p in (tmp_path / "nst").iterdir()] == ["wide_style.png"]
    with Image.open(tmp_path / "nst" / "wide_style.png") as written:
        assert written.size == (48, 32)


def _bad_inputs(tmp: Path, stage1: Path, nst: Path, editor: Path) -> dict[str, tuple[list[str], str]]:
    SyntheticPortraits(length=1, num_artists=1, size=32, seed=0).image(0).save(tmp / "face.png")
    (tmp / "broken.png").write_text("not a picture")
    (tmp / "junk.ckpt").write_text("not a checkpoint")
    (tmp / "other").mkdir(exist_ok=True)
    SyntheticPortraits(length=1, num_artists=1, size=32, seed=1).image(0).save(tmp / "other" / "face.png")
    face, style = json.dumps([str(tmp / "face.png")]), str(tmp / "face.png")
    return {
        "missing image": ([str(stage1), "--content", json.dumps([str(tmp / "gone.png")]), "--artist", "0"],
                          r"cannot read image '.*gone\.png'"),
        "unreadable image": ([str(stage1), "--content", json.dumps([str(tmp / "face.png"), str(tmp / "broken.png")]),
                              "--artist", "0"], r"cannot read image '.*broken\.png'"),
        "unreadable style": ([str(nst), "--content", face, "--style", str(tmp / "broken.png")],
                             r"cannot read image '.*broken\.png'"),
        "clashing names": ([str(stage1), "--content", json.dumps([str(tmp / "face.png"), str(tmp / "other")]),
                            "--artist", "0"], r"\['face'\] share a file name"),
        "checkpoint of another kind": ([str(editor), "--content", face, "--artist", "0"],
                                       r"AttributeEditor checkpoints cannot transfer"),
        "no checkpoint": ([str(tmp / "junk.ckpt"), "--content", face, "--artist", "0"], r"junk\.ckpt"),
        "unknown artist": ([str(stage1), "--content", face, "--artist", "artist_0009"],
                           r"'artist_0009' is not one of this model's artists; closest: artist_000"),
        "artist index out of range": ([str(stage1), "--content", face, "--artist", "7"], r"not an index"),
        "style to an artist model": ([str(stage1), "--content", face, "--style", style],
                                     r"GADNStage1 redraws by an artist.*--artist"),
        "artist to a reference model": ([str(nst), "--content", face, "--artist", "0"],
                                        r"DualDiscriminatorNST copies the style.*--style IMAGE"),
        "neither": ([str(nst), "--content", face], r"give either --artist or --style"),
        "empty folder": ([str(stage1), "--content", json.dumps([str(tmp / "nothing")]), "--artist", "0"],
                         r"holds no image"),
    }  # fmt: skip


def test_each_bad_input_is_one_line_and_nothing_is_written(
    stage1: Path, nst: Path, tiny_editor: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "nothing").mkdir()
    for case, (args, pattern) in _bad_inputs(tmp_path, stage1, nst, tiny_editor).items():
        out = tmp_path / "out"
        with pytest.raises(SystemExit) as exit_:
            _run(*args, "--output", str(out))
        message = str(exit_.value.code)
        assert message.startswith("animestyle transfer: error: "), case
        assert "\n" not in message, case
        assert re.search(pattern, message), (case, message)
        assert not out.exists(), case
    capsys.readouterr()
