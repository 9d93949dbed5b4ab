"""``animestyle edit``: image files edited by an attribute editor."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from animestyle.cli import main
from animestyle.data.synthetic import SyntheticPortraits
from animestyle.tools import edit
from tests.tools.conftest import grid_size


def _faces(folder: Path) -> list[str]:
    """Two face files: a 40 px RGB PNG and a 32 px JPEG."""
    portraits = SyntheticPortraits(length=2, num_artists=2, size=40)
    folder.mkdir(parents=True, exist_ok=True)
    portraits.image(0).save(folder / "a.png")
    portraits.image(1).resize((32, 32)).save(folder / "b.jpg")
    return [str(folder / "a.png"), str(folder / "b.jpg")]


def test_edit_writes_edited_images_and_a_before_after_grid(
    tiny_editor: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = _faces(tmp_path / "in")
    written = edit(str(tiny_editor), images=files, changes={"blush": 1, "pink_hair": 1}, output=str(tmp_path / "out"))
    assert [p.name for p in written] == ["a_edited.png", "b_edited.png", "before_after.png"]
    assert grid_size(tmp_path / "out" / "a_edited.png") == (40, 40)  # the picture's own size
    assert grid_size(tmp_path / "out" / "before_after.png") == (1 + 2 * 33, 1 + 2 * 33)
    printed = capsys.readouterr().out
    assert f"{files[0]}: source attributes read:" in printed
    assert f"{files[1]}: source attributes read:" in printed
    edit(str(tiny_editor), images=files[:1], changes={"smile": 0}, output=str(tmp_path / "nogrid"), grid=False)
    assert sorted(p.name for p in (tmp_path / "nogrid").iterdir()) == ["a_edited.png"]


def test_edit_names_unknown_attributes_and_unreadable_files(tiny_editor: Path, tmp_path: Path) -> None:
    files = _faces(tmp_path / "in")
    with pytest.raises(ValueError, match=r"unknown attribute 'purple_eyebrows'.*\['smile', 'blush'"):
        edit(str(tiny_editor), images=files, changes={"purple_eyebrows": 1}, output=str(tmp_path / "out"))
    (tmp_path / "in" / "broken.png").write_text("not a picture")
    for bad in ("broken.png", "missing.png"):
        with pytest.raises(ValueError, match=f"cannot read image '.*{bad}'"):
            edit(
                str(tiny_editor),
                images=[*files, str(tmp_path / "in" / bad)],
                changes={"blush": 1},
                output=str(tmp_path / "out"),
            )
    assert not (tmp_path / "out").exists()  # nothing written before every input is checked
    with pytest.raises(ValueError, match=r"changes\['blush'\]=2"):
        edit(str(tiny_editor), images=files, changes={"blush": 2}, output=str(tmp_path / "out"))


# --- the command line -------------------------------------------------------------------------


def test_edit_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["edit", "--help"])
    assert exit_.value.code == 0
    assert "--changes" in capsys.readouterr().out


def test_edit_through_the_command_line(tiny_editor: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = _faces(tmp_path / "in")
    out = tmp_path / "out"
    main(["edit", str(tiny_editor), "--images", json.dumps(files), "--changes", '{"blush": 1}', "--output", str(out)])
    assert (out / "a_edited.png").is_file()
    assert (out / "before_after.png").is_file()
    with pytest.raises(SystemExit, match="animestyle edit: error: unknown attribute 'wings'"):
        main(["edit", str(tiny_editor), "--images", json.dumps(files), "--changes", '{"wings": 1}'])
    capsys.readouterr()


def test_edit_takes_folders_keeps_each_pictures_size_and_edits_faces_in_illustrations(
    tiny_editor: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    SyntheticPortraits(length=1, num_artists=1, size=48).image(0).convert("RGB").crop((0, 8, 48, 40)).save(
        folder / "wide.png"
    )
    main(["edit", str(tiny_editor), "--images", json.dumps([str(folder)]), "--changes", '{"smile": 1}',
          "--output", str(tmp_path / "out")])  # fmt: skip
    assert grid_size(tmp_path / "out" / "wide_edited.png") == (48, 32)
    pytest.importorskip("animeface", reason="animeface has wheels for Linux x86-64 and macOS only")
    portrait = SyntheticPortraits(length=1, num_artists=1, size=256, seed=1, split="test", jitter=0.0).image(0)
    scene = Image.new("RGB", (400, 300), (120, 170, 200))
    scene.paste(portrait.convert("RGB"), (100, 20))
    scene.save(folder / "scene.png")
    main(["edit", str(tiny_editor), "--images", json.dumps([str(folder / "scene.png")]), "--changes",
          '{"blush": 1}', "--faces", "true", "--output", str(tmp_path / "faces")])  # fmt: skip
    assert grid_size(tmp_path / "faces" / "scene_edited.png") == (400, 300)
    assert "scene.png: 1 face edited" in capsys.readouterr().out


def test_edit_refuses_checkpoints_that_do_not_edit(tiny_attribute_classifier: Path, tmp_path: Path) -> None:
    files = _faces(tmp_path / "in")
    with pytest.raises(SystemExit, match=r"^animestyle edit: error: AttributeClassifier checkpoints cannot edit"):
        main(["edit", str(tiny_attribute_classifier), "--images", json.dumps(files), "--changes", '{"blush": 1}',
              "--output", str(tmp_path / "out")])  # fmt: skip
    assert not (tmp_path / "out").exists()
