"""``animestyle edit-report``: an attribute editor's report (ANIMEGAN report Sec. 5)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from animestyle.cli import main
from animestyle.data.synthetic import SyntheticPortraits
from animestyle.methods import AttributeClassifier
from animestyle.methods.base import CheckpointError
from animestyle.tools import edit_report
from tests.tools.conftest import NAMES, fit_and_save, grid_size


def test_edit_report_on_synthetic_portraits(
    tiny_editor: Path, tiny_attribute_classifier: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = edit_report(
        str(tiny_editor), str(tiny_attribute_classifier), output=str(tmp_path / "out"), images=8, num_artists=2
    )
    printed = capsys.readouterr().out
    assert "| PSNR (dB) | SSIM |" in printed
    assert "| attribute | n | edit PSNR | input PSNR | edit SSIM | input SSIM | edit PSNR, changed region |" in printed
    assert "| **mean** |" in printed
    assert "| pink_hair |" in printed
    assert result["images"] == 8
    assert result["attributes"] == NAMES
    assert all(0 <= row["acc_edit"] <= 1 for row in result["per_attribute"].values() if row["n"])
    # 8 rows; columns: input, reconstruction, one per attribute; 32 px images with 1 px gaps
    assert grid_size(tmp_path / "out" / "edits.png") == (1 + (2 + len(NAMES)) * 33, 1 + 8 * 33)
    saved = json.loads((tmp_path / "out" / "report.json").read_text())
    assert saved["per_attribute"] == result["per_attribute"]
    assert saved["reconstruction"] == result["reconstruction"]


def test_edit_report_on_a_folder_of_crops_without_classifier(
    tiny_editor: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    portraits = SyntheticPortraits(length=12, num_artists=2, size=32, split="val")
    for i in range(12):
        (tmp_path / "faces" / f"artist{i % 2}").mkdir(parents=True, exist_ok=True)
        portraits.image(i).save(tmp_path / "faces" / f"artist{i % 2}" / f"{i}.png")
    result = edit_report(str(tiny_editor), folder=str(tmp_path / "faces"), output=str(tmp_path / "out"), images=6)
    assert result["images"] == 6
    assert result["per_attribute"] == {}
    assert 0 < result["reconstruction"]["ssim"] <= 1
    assert "| PSNR (dB) | SSIM |" in capsys.readouterr().out
    assert (tmp_path / "out" / "edits.png").is_file()


def test_edit_report_refuses_a_classifier_of_other_attributes(tiny_editor: Path, tmp_path: Path) -> None:
    other = AttributeClassifier(["blush", "glasses"], image_size=32, widths=[8, 16, 32])
    path = fit_and_save(other, tmp_path, steps=0)
    with pytest.raises(CheckpointError, match=r"\['smile', 'open_mouth', 'long_hair', 'pink_hair', 'blue_eyes'\]"):
        edit_report(str(tiny_editor), str(path), images=2)
    with pytest.raises(CheckpointError, match="AttributeEditor"):
        edit_report(str(path), images=2)


def test_edit_report_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["edit-report", "--help"])
    assert exit_.value.code == 0
    assert "--classifier" in capsys.readouterr().out
