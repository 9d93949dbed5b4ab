"""Helpers shared by test modules."""

import os
import signal
import subprocess
import sys
import tempfile
import traceback
from pathlib import Path
from typing import Any

import lightning as L


def cpu_trainer(root: Path, max_steps: int, **kwargs: Any) -> L.Trainer:
    """A quiet single-CPU Trainer (no logger, checkpoints, progress bar or summary; one
    validation batch, no sanity check); ``kwargs`` override any setting."""
    settings: dict[str, Any] = {
        "default_root_dir": root,
        "accelerator": "cpu",
        "devices": 1,
        "max_steps": max_steps,
        "logger": False,
        "enable_checkpointing": False,
        "enable_progress_bar": False,
        "enable_model_summary": False,
        "limit_val_batches": 1,
        "num_sanity_val_steps": 0,
    }
    return L.Trainer(**{**settings, **kwargs})


def run_forked(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``animestyle *args`` in a process of its own, forked from this one instead of started
    afresh: the same ``animestyle.cli.main`` with the same arguments, minus the 6 to 10 s that
    a new interpreter spends importing Lightning (which made up most of each tiny run). What
    a run changes (random streams, deterministic-algorithm flags, the working folder) ends
    with the child. stdout and stderr are written to files and returned.

    For tests that check what a run writes (checkpoints, metrics); tests of what a user sees
    on the terminal run the real command (``python -m animestyle.cli``) instead."""
    import torch

    from animestyle.cli import main  # imported here, once: every child inherits it

    if torch.cuda.is_initialized():  # CUDA cannot be used again in a forked child: a fresh interpreter
        command = [sys.executable, "-m", "animestyle.cli", *args]
        return subprocess.run(
            command, cwd=cwd, capture_output=True, text=True, timeout=600, env={**os.environ, **(env or {})}
        )
    with tempfile.TemporaryDirectory() as scratch:
        out, err = Path(scratch) / "stdout", Path(scratch) / "stderr"
        pid = os.fork()
        if pid == 0:  # the child: never returns into pytest
            code = 1
            try:
                signal.alarm(600)  # a hung run is killed, as subprocess.run(timeout=600) would
                os.chdir(cwd)
                os.environ.update(env or {})
                for fd, path in ((1, out), (2, err)):
                    os.dup2(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC), fd)
                sys.stdout = open(1, "w", closefd=False)  # noqa: SIM115  (pytest replaced both)
                sys.stderr = open(2, "w", closefd=False)  # noqa: SIM115
                sys.argv = ["animestyle", *args]
                main()
                code = 0
            except SystemExit as stop:
                code = stop.code if isinstance(stop.code, int) else 1
                if not isinstance(stop.code, int | None):
                    print(stop.code, file=sys.stderr)
            except BaseException:
                traceback.print_exc()
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code or 0)
        _, status = os.waitpid(pid, 0)
        code = os.waitstatus_to_exitcode(status)
        return subprocess.CompletedProcess(["animestyle", *args], code, out.read_text(), err.read_text())


def run_quietly(*args: str, cwd: Path) -> None:
    """``animestyle *args`` judged by its exit status and the files it writes, not by what it
    prints: forked by :func:`run_forked`; it must succeed."""
    result = run_forked(list(args), cwd)
    assert result.returncode == 0, f"{' '.join(args)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
