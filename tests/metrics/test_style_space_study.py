"""examples/style_space/synthetic_study.py, run as a user runs it (in a subprocess) on tiny checkpoints."""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from animestyle.methods.base import CheckpointError
from tests.metrics.conftest import TINY_ARTISTS

SCRIPT = Path(__file__).parents[2] / "examples" / "style_space" / "synthetic_study.py"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("style_space_synthetic_study", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}
    command = [sys.executable, str(SCRIPT), "--device", "cpu", *args]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=300, env=env)


def test_the_study_reads_three_checkpoints_and_writes_plots_and_numbers(
    tiny_metric: Path, tiny_classifier: Path, tiny_vae: Path, tmp_path: Path
) -> None:
    accuracy_plot, ratio_plot, numbers = tmp_path / "a" / "accuracy.png", tmp_path / "ratio.png", tmp_path / "n.json"
    result = _run(
        "--metric", str(tiny_metric), "--classifier", str(tiny_classifier), "--vae", str(tiny_vae),
        "--images", "24", "--kept", "3", "--batch-size", "10", "--accuracy-plot", str(accuracy_plot),
        "--ratio-plot", str(ratio_plot), "--json", str(numbers), cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    printed = result.stdout
    assert "| k | metric learning | classification |" in printed
    assert "| k | metric learning ratio | classification ratio |" in printed
    assert f"Chance accuracy: {1 / TINY_ARTISTS:.4f}" in printed
    assert "| dim | factor | rho |" in printed
    assert "| k | reconstruction error |" in printed
    assert "Suggested content dims:" in printed
    for plot in (accuracy_plot, ratio_plot):
        assert plot.read_bytes()[:8] == PNG_MAGIC
    assert not (tmp_path / "docs").exists()  # the docs paths are only defaults

    results = json.loads(numbers.read_text())
    assert results["images"] == 24
    assert results["dims"] == [1, 2, 4, 8]
    assert results["chance_accuracy"] == 1 / TINY_ARTISTS
    for name in ("metric", "classifier"):
        scores = results[name]
        assert len(scores["accuracy"]) == len(scores["ratio"]) == 4
        assert all(0 <= a <= 1 for a in scores["accuracy"])
        assert scores["suggested_dims"] in results["dims"]
    assert [row["dim"] for row in results["spearman"]] == [0, 1, 2]
    assert results["vae"]["dims"] == [1, 2, 4, 8]
    assert results["vae"]["suggested_dims"] in results["vae"]["dims"]


def test_the_study_without_classifier_and_vae_and_with_a_wrong_checkpoint(
    tiny_metric: Path, tiny_classifier: Path, tmp_path: Path
) -> None:
    plots = ["--accuracy-plot", str(tmp_path / "a.png"), "--ratio-plot", str(tmp_path / "r.png")]
    result = _run("--metric", str(tiny_metric), "--classifier", "", "--vae", "", "--images", "8", *plots, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "| k | metric learning |" in result.stdout
    assert "classification" not in result.stdout
    assert "reconstruction error" not in result.stdout

    # bad checkpoints, in-process: the script's main() raises what the command line prints
    study = _load_script()
    with pytest.raises(SystemExit, match="--metric is a MetricStyleEncoder with objective='classification'"):
        study.main(["--metric", str(tiny_classifier), "--classifier", "", "--vae", "", *plots])
    with pytest.raises(CheckpointError, match=r"--vae=.*does not exist"):
        study.main(["--metric", str(tiny_metric), "--classifier", "", "--vae", str(tmp_path / "none.ckpt"), *plots])
