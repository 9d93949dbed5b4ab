"""Scaffolding of the throughput benchmarks: a bare Trainer, a clock callback that stops it,
peak memory, and running one configuration per child process.

(The GADN, style-space and attribute-editing scripts still carry their own copies.)
"""

from __future__ import annotations

import os
import resource
import subprocess
import time
from typing import Any

import lightning as L
import torch


class IterationClock(L.Callback):
    """Times training iterations after ``warmup`` untimed ones and stops the Trainer once at
    least ``iterations`` iterations and ``seconds`` seconds are timed."""

    def __init__(self, warmup: int, iterations: int, seconds: float):
        self.warmup, self.least, self.seconds_wanted = warmup, max(iterations, 1), seconds
        self.done = self.timed = 0
        self.start = self.seconds = 0.0

    def on_train_batch_start(self, trainer: L.Trainer, *args: Any) -> None:
        if self.done == self.warmup:
            if torch.cuda.is_available():
                torch.cuda.synchronize()
                torch.cuda.reset_peak_memory_stats()
            self.start = time.perf_counter()

    def on_train_batch_end(self, trainer: L.Trainer, *args: Any) -> None:
        self.done += 1
        self.timed = self.done - self.warmup
        if self.timed < self.least:
            return
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        elapsed = time.perf_counter() - self.start
        if elapsed >= self.seconds_wanted:
            self.seconds = elapsed
            trainer.should_stop = True


def bare_trainer(precision: str, root: str, callbacks: list[L.Callback]) -> L.Trainer:
    """One device, no logger, checkpoints, progress bar or validation; a callback stops it."""
    return L.Trainer(
        max_steps=-1, max_epochs=-1, precision=precision, logger=False, enable_checkpointing=False,  # type: ignore[arg-type]
        enable_progress_bar=False, enable_model_summary=False, limit_val_batches=0, callbacks=callbacks, devices=1,
        default_root_dir=root,
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
