"""``animestyle evaluate`` at CI size (32 px, 8 portraits, an oracle of 2 steps): the table's
rows and columns, the identity row scored exactly as the content images, a rerun that keeps
every finished row, and one line for each bad argument."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import torch
from PIL import Image

from animestyle.cli import main
from animestyle.data.synthetic import SyntheticPortraits
from animestyle.metrics import TransferScores, target_artists
from animestyle.tools.evaluate import COLUMNS

SETTINGS = ["--num_artists", "4", "--image_size", "32", "--items", "8", "--pool", "16", "--grid_items", "3"]
SETTINGS += ["--oracle_steps", "2", "--batch_size", "4"]


def run_evaluate(out: Path, checkpoints: dict[str, str], capsys: pytest.CaptureFixture[str]) -> str:
    main(["evaluate", "--checkpoints", json.dumps(checkpoints), "--out", str(out), *SETTINGS])
    captured = capsys.readouterr()
    return captured.out + captured.err


def test_evaluate_writes_one_row_per_method_and_keeps_them_on_a_rerun(
    stage1: Path,
    nst: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "table"
    checkpoints = {"gadn": str(stage1), "nst": str(nst)}
    printed = run_evaluate(out, checkpoints, capsys)
    for name in ("table.md", "table.csv", "table.json", "grid.png"):
        assert f"wrote {out / name}" in printed

    table = json.loads((out / "table.json").read_text())
    rows = table["rows"]
    assert list(rows) == ["identity", "nearest", "gadn", "nst"]
    assert rows["gadn"]["method"] == "GADNStage1"
    assert rows["nst"]["method"] == "DualDiscriminatorNST"
    for row in rows.values():
        assert {key for key, _ in COLUMNS} <= row.keys()
        assert 0 <= row["target_accuracy"] <= 1
        assert 0 <= row["content_accuracy"] <= 1
    with (out / "table.csv").open() as file:
        lines = list(csv.reader(file))
    assert lines[0] == ["row", "method", *(key for key, _ in COLUMNS)]
    assert [line[0] for line in lines[1:]] == list(rows)
    markdown = (out / "table.md").read_text()
    assert all(f"| {name} |" in markdown for name in rows)
    with Image.open(out / "grid.png") as grid:  # 3 contents; content, true render, then 4 rows; 32 px x 3
        assert grid.size == (6 * 97 + 1, 3 * 97 + 1)

    # The identity row scores exactly as the content images against the true renders.
    test = SyntheticPortraits(length=8, num_artists=4, size=32, seed=0, split="test")
    x = torch.stack([test[i]["x"] for i in range(8)])
    source = torch.tensor([test.artist(i) for i in range(8)])
    truth = torch.stack([test.transfer(i, int(a)) for i, a in enumerate(target_artists(source, 4, 0))])
    metric = TransferScores()
    metric.update(x, truth)
    expected = {k: float(v) for k, v in metric.compute().items()}
    assert {k: rows["identity"][k] for k in expected} == expected
    assert rows["nearest"]["l1"] != rows["identity"]["l1"]

    before = {p.name: p.stat().st_mtime_ns for p in (out / "rows").iterdir()}
    again = run_evaluate(out, checkpoints, capsys)
    assert all(f"{name}: kept" in again for name in rows)
    assert {p.name: p.stat().st_mtime_ns for p in (out / "rows").iterdir()} == before
    assert json.loads((out / "table.json").read_text())["rows"] == rows


@pytest.mark.parametrize(
    ("checkpoints", "message"),
    [
        ({"gadn": "missing.ckpt"}, "checkpoints.gadn='missing.ckpt' does not exist; train it first or fix the path"),
        ({"identity": "x.ckpt"}, "checkpoints: the row names ['identity'] are the baselines'; rename those rows"),
    ],
)
def test_evaluate_refuses_bad_checkpoints_in_one_line(
    checkpoints: dict[str, str], message: str, tmp_path: Path
) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["evaluate", "--checkpoints", json.dumps(checkpoints), "--out", str(tmp_path), *SETTINGS])
    assert str(stopped.value) == f"animestyle evaluate: error: {message}"
