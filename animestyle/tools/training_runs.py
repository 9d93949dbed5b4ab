"""Example configs trained for ``animestyle evaluate``: ``animestyle fit --config`` of each in
order (earlier stages first), in a folder of the row's own, timed; a finished stage is reused."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

__all__ = ["last_checkpoint", "stage_key", "train_row"]

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


def stage_key(config: str | Path, max_steps: int | None) -> dict[str, Any]:
    """What a finished stage was trained from: the config's path and settings (its comments
    aside), and the step override."""
    path = Path(config).resolve()
    settings = json.dumps(yaml.safe_load(path.read_text()), sort_keys=True, default=str)
    return {"config": str(path), "sha256": hashlib.sha256(settings.encode()).hexdigest(), "max_steps": max_steps}


def train_row(name: str, configs: Sequence[str], folder: Path, max_steps: int | None = None) -> tuple[Path, float]:
    """Train the configs of row ``name`` in order inside ``folder`` (their relative outputs,
    and the earlier stages a later config reads, land there); ``max_steps`` overrides each
    config's (for short trial runs).

    Each finished stage is recorded in ``folder/trained.json`` with its config's path and settings: a rerun
    skips the stages that finished with the same configs, in the same order, and steps, so an
    interrupted row resumes at the stage it was in (that stage starts over).

    Returns:
        the last config's ``last.ckpt`` and the seconds all its stages took to train.

    Raises:
        ValueError: naming the row and the config that failed (its output is shown as it runs).
    """
    if not configs:
        raise ValueError(f"train.{name}: give at least one config")
    for config in configs:
        if not Path(config).is_file():
            raise ValueError(f"train.{name}: the config {config!r} does not exist")
    checkpoints = [folder / last_checkpoint(config) for config in configs]
    record = folder / "trained.json"
    try:
        finished = json.loads(record.read_text())["stages"] if record.is_file() else []
    except (ValueError, KeyError, TypeError):
        finished = []  # an older or damaged record: train again
    folder.mkdir(parents=True, exist_ok=True)
    stages: list[dict[str, Any]] = []
    for i, (config, checkpoint) in enumerate(zip(configs, checkpoints, strict=True)):
        key = stage_key(config, max_steps)
        if i < len(finished) and {k: finished[i].get(k) for k in key} == key and checkpoint.is_file():
            stages.append(finished[i])  # trained before, with the same config and steps
            continue
        for stale in checkpoints[i:]:  # never scored or read by a later stage as if just trained
            stale.unlink(missing_ok=True)
        command = [sys.executable, "-c", _FIT, "fit", "--config", key["config"]]
        if max_steps is not None:
            command += ["--trainer.max_steps", str(max_steps)]
        print(f"train.{name}: animestyle fit --config {config} (in {folder})", flush=True)
        began = time.perf_counter()
        returncode = subprocess.run(command, cwd=folder, check=False).returncode  # its progress shows
        seconds = time.perf_counter() - began
        if returncode != 0:
            raise ValueError(f"train.{name}: `animestyle fit --config {config}` failed (exit {returncode}; see above)")
        if not checkpoint.is_file():
            raise ValueError(f"train.{name}: `animestyle fit --config {config}` ended but {checkpoint} was not written")
        stages.append({**key, "seconds": seconds})
        finished = []  # a later stage reads this one: every later stage trains again
        partial = record.with_suffix(".partial")
        partial.write_text(json.dumps({"stages": stages}, indent=1))
        partial.replace(record)
    return checkpoints[-1], sum(float(stage["seconds"]) for stage in stages)
