"""Scaffolding of the training-throughput benchmarks (``*_throughput.py`` that train a method):
the shared command-line flags, synthetic data, a bare Trainer, a clock callback that stops it,
peak memory, and running one configuration per child process.

A script imports it as ``from _common import ...``: run as ``python examples/benchmarks/x.py``
from any folder, Python puts the script's own folder first on ``sys.path``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import lightning as L
import torch


class IterationClock(L.Callback):
    """Times training iterations after ``warmup`` untimed ones and stops the Trainer once at
    least ``iterations`` iterations and ``seconds`` seconds are timed.

    Iterations are the batches trained, or what ``counter`` returns (a method's own
    ``iteration`` counter) when given. With ``cycle`` > 1 it times whole cycles only (e.g.
    ``n_critic`` discriminator steps per generator step): at least ``iterations`` rounded up
    to a multiple of ``cycle``, and it stops only when the timed count is such a multiple."""

    def __init__(
        self, warmup: int, iterations: int, seconds: float, cycle: int = 1, counter: Callable[[], int] | None = None
    ):
        self.warmup, self.cycle, self.seconds_wanted, self.counter = warmup, cycle, seconds, counter
        self.least = -(-max(iterations, 1) // cycle) * cycle  # whole cycles
        self.batches = self.timed = 0
        self.start = self.seconds = 0.0

    def done(self) -> int:
        """Iterations trained so far (timed or not)."""
        return self.batches if self.counter is None else int(self.counter())

    def on_train_batch_start(self, trainer: L.Trainer, *args: Any) -> None:
        if self.done() == self.warmup:
            if torch.cuda.is_available():
                torch.cuda.synchronize()
                torch.cuda.reset_peak_memory_stats()
            self.start = time.perf_counter()

    def on_train_batch_end(self, trainer: L.Trainer, *args: Any) -> None:
        self.batches += 1
        self.timed = self.done() - self.warmup
        if self.timed < self.least or self.timed % self.cycle:
            return
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        elapsed = time.perf_counter() - self.start
        if elapsed >= self.seconds_wanted:
            self.seconds = elapsed
            trainer.should_stop = True

    def figures(self, batch: int) -> dict[str, Any]:
        """After the run: timed iterations and seconds, s/iteration, images/s, peak memory."""
        return {
            "iterations": self.timed, "seconds": self.seconds, "seconds_per_iteration": self.seconds / self.timed,
            "images_per_second": self.timed * batch / self.seconds, "peak_gib": peak_memory_gib(),
        }  # fmt: skip


def benchmark_parser(
    doc: str | None, sizes: list[int], batch: int, warmup: int, iterations_help: str = "timed iterations, at least"
) -> argparse.ArgumentParser:
    """A parser with ``doc`` as its description and the flags every throughput benchmark has:
    ``--sizes`` and ``--batch``; ``--iterations``, ``--seconds`` and ``--warmup``, what
    IterationClock reads; ``--precision`` (default: ``default_precisions``); and the internal
    ``--one`` (run one configuration, print its JSON), which ``run_configurations`` passes."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=sizes)
    parser.add_argument("--batch", type=int, default=batch)
    parser.add_argument("--iterations", type=int, default=10, help=iterations_help)
    parser.add_argument("--seconds", type=float, default=0.0, help="timed seconds, at least")
    parser.add_argument("--warmup", type=int, default=warmup, help="untimed iterations first")
    parser.add_argument("--precision", nargs="+", default=None, help="default: 32-true, and bf16-mixed on CUDA")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # internal: run one configuration, print JSON
    return parser


def default_precisions() -> list[str]:
    """fp32, and bf16-mixed too with a CUDA device."""
    return ["32-true", "bf16-mixed"] if torch.cuda.is_available() else ["32-true"]


def synthetic_data(size: int, batch: int, artists: int, **options: Any) -> Any:
    """An ``AnimeFacesDataModule`` of synthetic portraits (one worker); ``options`` go to it."""
    from animestyle.data import AnimeFacesDataModule, SyntheticSource

    return AnimeFacesDataModule(  # images are drawn as they are loaded: a long epoch costs nothing
        synthetic=SyntheticSource(num_artists=artists, train_size=100_000, val_size=batch),
        image_size=size, batch_size=batch, num_workers=1, **options,
    )  # fmt: skip


def bare_trainer(precision: str, root: str, callbacks: Sequence[L.Callback] = (), max_steps: int = -1) -> L.Trainer:
    """One device, no logger, checkpoints, progress bar or validation; a callback (or
    ``max_steps`` optimizer steps) stops it."""
    return L.Trainer(
        max_steps=max_steps, max_epochs=-1, precision=precision, logger=False, enable_checkpointing=False,  # type: ignore[arg-type]
        enable_progress_bar=False, enable_model_summary=False, limit_val_batches=0, callbacks=list(callbacks),
        devices=1, default_root_dir=root,
    )  # fmt: skip


def peak_memory_gib() -> float:
    """Peak allocated GPU memory on CUDA, else this process's peak resident set size."""
    if torch.cuda.is_available():
        return torch.cuda.max_memory_allocated() / 2**30
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # kB on Linux


def device_line() -> str:
    if torch.cuda.is_available():
        return f"device: {torch.cuda.get_device_name()} (peak: allocated GPU memory)"
    return f"device: cpu ({os.cpu_count()} cores; peak: resident set size)"


def run_child(command: list[str], what: str) -> str:
    """stdout of ``command`` (W&B off); SystemExit with its stderr's tail when it fails."""
    done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "WANDB_MODE": "disabled"})
    if done.returncode != 0:
        raise SystemExit(f"{what} failed:\n{done.stderr[-3000:]}")
    return done.stdout


def child_result(command: list[str], what: str) -> dict[str, Any]:
    """Run ``command`` (a ``--one`` child) and read the JSON of its last stdout line."""
    return json.loads(run_child(command, what).strip().splitlines()[-1])


def start(args: argparse.Namespace, measure: Callable[[str, int, str], dict[str, Any]], *header: str) -> bool:
    """The start of a benchmark's ``main`` after parsing. In a child (``--one name,size,precision``,
    as ``run_configurations`` runs it): print the JSON of ``measure(name, size, precision)`` and
    return True. In the parent: exit on SIGTERM (so that the running child is stopped and
    temporary folders are removed), print the device line and the ``header`` lines, and return
    False."""
    if args.one:
        name, size, precision = args.one.split(",")
        print(json.dumps(measure(name, int(size), precision)))
        return True
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    print(device_line())
    print(*header, sep="\n", flush=True)
    return False


def run_configurations(
    script: str, args: argparse.Namespace, names: Iterable[Any], row: Callable[[int, Any, str, dict[str, Any]], str],
    options: Sequence[str] = (), sizes: Sequence[int] | None = None, kind: str = "", json_path: Path | None = None,
) -> list[dict[str, Any]]:  # fmt: skip
    """For each size (``args.sizes`` by default), name (stage, approach) and precision
    (``args.precision`` or ``default_precisions``), run ``script --one name,size,precision`` in a
    child process with ``options`` and the timing flags of ``args``, and print ``row(size, name,
    precision, result)`` as it comes; return the children's results, and write them to
    ``json_path`` (indented JSON) when given. ``kind`` prefixes the name in a failure's message."""
    timing = ["--iterations", str(args.iterations), "--warmup", str(args.warmup), "--seconds", str(args.seconds)]
    names, results = list(names), []
    for size in args.sizes if sizes is None else sizes:
        for name in names:
            for precision in args.precision or default_precisions():
                command = [sys.executable, script, "--one", f"{name},{size},{precision}", *options, *timing]
                results.append(child_result(command, f"{kind}{name} at {size} px ({precision})"))
                print(row(size, name, precision, results[-1]), flush=True)
    if json_path is not None:
        json_path.write_text(json.dumps(results, indent=2) + "\n")
    return results
