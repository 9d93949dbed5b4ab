"""examples/benchmarks/nst_throughput.py, run as a user runs it: in a subprocess."""

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_nst_benchmark_times_both_approaches_and_counts_their_parameters(tmp_path: Path) -> None:
    script = REPO / "examples" / "benchmarks" / "nst_throughput.py"
    command = [sys.executable, str(script), "--sizes", "64", "--batch", "2", "--iterations", "1"]
    command += ["--warmup", "0", "--json", "results.json"]
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in result.stdout.strip().splitlines()[-2:]]
    assert [row[:5] for row in rows] == [["dual", "64", "2", "32-true", "1"], ["encoder", "64", "2", "32-true", "1"]]
    for row in rows:  # s/iter, images/s, peak GiB
        assert all(math.isfinite(float(value)) and float(value) > 0 for value in row[5:8]), row
    saved = json.loads((tmp_path / "results.json").read_text())
    dual, encoder = saved
    assert dual["transfer_parameters"] < dual["parameters"]  # the generator alone
    assert encoder["transfer_parameters"] == encoder["parameters"] < dual["transfer_parameters"] / 10
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]  # nothing else left behind
