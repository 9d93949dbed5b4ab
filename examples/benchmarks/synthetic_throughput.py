"""Images per second of the synthetic portraits on one CPU core.

    python examples/benchmarks/synthetic_throughput.py              # 64 and 128 px, 5 s each
    python examples/benchmarks/synthetic_throughput.py --sizes 32 256 --seconds 2

``render`` is the drawing alone; ``dataset`` is ``SyntheticPortraits[i]``: sampling the
content and jittered style of item i, drawing, and converting to tensors, which is what one
DataLoader worker does per image. The process is pinned to one core (Linux) and torch to one
thread. Target: 2,000 images/s at 64 px.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import torch

from animestyle.data.synthetic import SyntheticPortraits, render


def _rate(step, seconds: float) -> float:  # type: ignore[no-untyped-def]
    """Calls of ``step(i)`` per second, timed over at least ``seconds`` (after a warm-up)."""
    for i in range(20):
        step(i)
    count, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds or count < 50:
        step(count)
        count += 1
    return count / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[64, 128])
    parser.add_argument("--seconds", type=float, default=5.0, help="time per measurement")
    parser.add_argument("--artists", type=int, default=32)
    args = parser.parse_args()

    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    torch.set_num_threads(1)
    machine = platform.processor() or platform.machine()
    print(f"python {platform.python_version()}, torch {torch.__version__}, {machine}, one core")
    print(f"{'size':>6}{'render img/s':>16}{'dataset img/s':>16}")
    for size in args.sizes:
        data = SyntheticPortraits(length=10**9, num_artists=args.artists, size=size)
        contents = [data.content(i) for i in range(1000)]
        styles = [data.style(i) for i in range(1000)]
        render_rate = _rate(lambda i: render(contents[i % 1000], styles[i % 1000], size), args.seconds)  # noqa: B023
        dataset_rate = _rate(data.__getitem__, args.seconds)
        print(f"{size:>6}{render_rate:>16.0f}{dataset_rate:>16.0f}")


if __name__ == "__main__":
    main()
