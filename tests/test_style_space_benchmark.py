"""examples/benchmarks/style_space_throughput.py, run as a user runs it: in a subprocess."""

import math
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_style_space_benchmark_times_every_stage(tmp_path: Path) -> None:
    script = REPO / "examples" / "benchmarks" / "style_space_throughput.py"
    command = [sys.executable, str(script), "--sizes", "32", "--artists", "2", "--batch", "4"]
    command += ["--iterations", "1", "--warmup", "0", "--seconds", "0"]
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = [line.split() for line in result.stdout.strip().splitlines()[-3:]]
    assert [row[:5] for row in rows] == [[stage, "32", "4", "32-true", "1"] for stage in ("metric", "vae", "gan")]
    for row in rows:  # s/iter, images/s, peak GiB
        assert all(math.isfinite(float(value)) and float(value) > 0 for value in row[5:8]), row
    assert list(tmp_path.iterdir()) == []  # the input checkpoints went to a temporary folder, now gone
