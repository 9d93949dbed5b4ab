"""examples/benchmarks/inference_throughput.py, run as a user runs it: in a subprocess."""

import math
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_inference_benchmark_times_the_call_of_each_method(tmp_path: Path) -> None:
    script = REPO / "examples" / "benchmarks" / "inference_throughput.py"
    command = [sys.executable, str(script), "--sizes", "64", "--batches", "1", "2", "--seconds", "0", "--calls", "1"]
    command += ["--methods", "gadn-stage1", "nst-encoder", "editor"]
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in result.stdout.strip().splitlines()[-6:]]
    assert [row[:5] for row in rows] == [
        ["gadn-stage1", "transfer(artist=1)", "64", "1", "fp32"],
        ["gadn-stage1", "transfer(artist=1)", "64", "2", "fp32"],
        ["nst-encoder", "transfer(reference)", "64", "1", "fp32"],
        ["nst-encoder", "transfer(reference)", "64", "2", "fp32"],
        ["editor", "edit(smile=True)", "64", "1", "fp32"],
        ["editor", "edit(smile=True)", "64", "2", "fp32"],
    ]
    assert all(math.isfinite(float(row[5])) and float(row[5]) > 0 for row in rows)  # images/s
    assert list(tmp_path.iterdir()) == []  # the checkpoints went to a temporary folder, removed
