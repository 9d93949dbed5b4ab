"""examples/gadn/synthetic_study.py, run tiny as a user runs it: in a subprocess."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parents[2] / "examples" / "gadn" / "synthetic_study.py"
TINY = [
    "--iterations", "3", "--batch-size", "4", "--widths", "8", "8", "8", "--fc-width", "16",
    "--content-dim", "8", "--style-dim", "4", "--val-size", "8", "--probe-train", "40", "--probe-test", "20",
    "--c2-iterations", "2", "--transfer-items", "8", "--oracle-steps", "2", "--num-workers", "0",
    "--accelerator", "cpu",
]  # fmt: skip


@pytest.mark.slow
def test_the_tiny_study_runs_every_step_and_writes_its_results(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    command = [
        sys.executable,
        str(SCRIPT),
        *TINY,
        "--nist",
        "--stage2",
        "2",
        "--workdir",
        str(tmp_path),
        "--out",
        str(out),
    ]
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    printed = result.stdout
    titles = ("Reconstruction distance", "Table 4", "Table 5", "Table 6", "Table 7", "Linear probe", "Transfers of 8")
    for title in titles:
        assert title in printed
    assert "| E_hair_colour |" in printed
    assert "| stage 2 EMA |" in printed

    results = json.loads(out.read_text())
    encoders = ["E_init (untrained)", "E_artist", "E_hair_colour", "E_V"]
    assert list(results["encoders"]) == encoders
    assert set(results["encoders"]["E_V"]) == {"2", "8"}
    row = results["encoders"]["E_artist"]["8"]["hair_colour"]
    assert row["num_classes"] == 9
    assert 0 <= row["top1"] <= 1
    assert 1 <= row["avg_rank"] <= 9
    assert 0 <= row["linear_accuracy"] <= 1
    assert set(results["reconstruction"]) == {"E_artist", "E_hair_colour", "E_V"}
    assert set(results["transfers"]) == {"untrained", "stage 1", "stage 2", "stage 2 EMA"}
    assert results["transfers"]["stage 1"]["num_items"] == 8
    assert 0 <= results["c2_val_accuracy"] <= 1
    assert {p.name for p in tmp_path.glob("*.ckpt")} == {
        "stage1_E_artist.ckpt",
        "stage1_E_hair_colour.ckpt",
        "stage1_E_V.ckpt",
        "c2.ckpt",
        "stage2.ckpt",
    }
