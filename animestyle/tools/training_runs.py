"""Example configs trained for ``animestyle evaluate``: ``animestyle fit --config`` of each in
order (earlier stages first), in a folder of the row's own, timed; a finished run is reused."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

__all__ = ["last_checkpoint", "train_row"]

_FIT = "from animestyle.cli import main; main()"


def last_checkpoint(config: str | Path) -> Path:
    """Where the config's ``ModelCheckpoint`` writes ``last.ckpt`` (relative to the run's folder).

    Raises:
        ValueError: naming the config when it is unreadable or saves no ``last.ckpt``.
    """
    path = Path(config)
    try:
        settings = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as error:
        raise ValueError(f"train: cannot read the config {str(path)!r} ({error})") from None
    for callback in (settings.get("trainer") or {}).get("callbacks") or []:
        arguments = callback.get("init_args") or {} if isinstance(callback, dict) else {}
        if str(callback.get("class_path", "")).endswith("ModelCheckpoint") and arguments.get("save_last"):
            return Path(arguments.get("dirpath", ".")) / "last.ckpt"
    raise ValueError(
        f"train: {str(path)!r} has no ModelCheckpoint callback with save_last: true and a dirpath; "
        "add one (as every example config has), or train it yourself and give the checkpoint"
    )


def train_row(name: str, configs: Sequence[str], folder: Path, max_steps: int | None = None) -> tuple[Path, float]:
    """Train the configs of row ``name`` in order inside ``folder`` (their relative outputs,
    and the earlier stages a later config reads, land there); ``max_steps`` overrides each
    config's (for short trial runs).

    Returns:
        the last config's ``last.ckpt`` and the training's seconds. A run that finished with the
        same configs and steps (``folder/trained.json``) is not redone.

    Raises:
        ValueError: naming the row and the config that failed (its output is shown as it runs).
    """
    if not configs:
        raise ValueError(f"train.{name}: give at least one config")
    for config in configs:
        if not Path(config).is_file():
            raise ValueError(f"train.{name}: the config {config!r} does not exist")
    checkpoints = [last_checkpoint(config) for config in configs]
    record: dict[str, Any] = {"configs": [str(Path(c).resolve()) for c in configs], "max_steps": max_steps}
    done = folder / "trained.json"
    checkpoint = folder / checkpoints[-1]
    if done.is_file() and checkpoint.is_file():
        saved = json.loads(done.read_text())
        if {k: saved.get(k) for k in record} == record:
            return checkpoint, float(saved["seconds"])
    folder.mkdir(parents=True, exist_ok=True)
    seconds = 0.0
    for config in configs:
        command = [sys.executable, "-c", _FIT, "fit", "--config", str(Path(config).resolve())]
        if max_steps is not None:
            command += ["--trainer.max_steps", str(max_steps)]
        print(f"train.{name}: animestyle fit --config {config} (in {folder})", flush=True)
        began = time.perf_counter()
        returncode = subprocess.run(command, cwd=folder, check=False).returncode  # its progress shows
        seconds += time.perf_counter() - began
        if returncode != 0:
            raise ValueError(f"train.{name}: `animestyle fit --config {config}` failed (exit {returncode}; see above)")
    if not checkpoint.is_file():
        raise ValueError(f"train.{name}: training ended but {checkpoint} was not written")
    done.write_text(json.dumps({**record, "seconds": seconds}, indent=1))
    return checkpoint, seconds
