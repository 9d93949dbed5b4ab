"""examples/benchmarks/attribute_editing_throughput.py, run as a user runs it: in a subprocess."""

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_attribute_editing_benchmark_times_both_stages(tmp_path: Path) -> None:
    script = REPO / "examples" / "benchmarks" / "attribute_editing_throughput.py"
    command = [sys.executable, str(script), "--sizes", "32", "--batch", "2", "--widths", "8", "16", "32"]
    command += ["--iterations", "1", "--warmup", "0", "--seconds", "0", "--json", "results.json"]
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in result.stdout.strip().splitlines()[-2:]]
    # the editor times a whole n_critic cycle (5 iterations: 4 D steps, then D and G); the classifier 1
    assert [row[:6] for row in rows] == [
        ["editor", "32", "2", "32-true", "8-16-32", "5"],
        ["classifier", "32", "2", "32-true", "32-64-128", "1"],
    ]
    for row in rows:  # s/iter, images/s, peak GiB
        assert all(math.isfinite(float(value)) and float(value) > 0 for value in row[6:9]), row
    saved = json.loads((tmp_path / "results.json").read_text())
    assert [(r["stage"], r["iterations"], r["attributes"]) for r in saved] == [("editor", 5, 21), ("classifier", 1, 21)]
    assert saved[0]["n_critic"] == 5
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]  # nothing else left behind
