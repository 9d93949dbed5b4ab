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

from animestyle.atomic import write_text_atomic
from animestyle.inference import METHODS
from animestyle.methods.base import read_checkpoint

__all__ = ["check_row", "last_checkpoint", "read_config", "stage_key", "train_row"]

_FIT = "from animestyle.cli import main; main()"


def read_config(config: str | Path) -> dict[str, Any]:
    """The settings of a YAML config (``{}`` when it is empty).

    Raises:
        ValueError: naming the config when it is unreadable or not a mapping of settings.
    """
    path = Path(config)
    try:
        settings = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as error:
        raise ValueError(f"train: cannot read the config {str(path)!r} ({error})") from None
    if not isinstance(settings, dict):
        raise ValueError(f"train: the config {str(path)!r} is not a mapping of settings")
    return settings


def _checkpoint_arguments(config: str | Path) -> dict[str, Any]:
    """The ``init_args`` of the config's ``ModelCheckpoint`` that saves ``last.ckpt``.

    Raises:
        ValueError: naming the config when it is unreadable or has no such callback with a ``dirpath``.
    """
    path = Path(config)
    for callback in (read_config(path).get("trainer") or {}).get("callbacks") or []:
        if not isinstance(callback, dict):
            continue
        arguments = callback.get("init_args") or {}
        saves_last = str(callback.get("class_path", "")).endswith("ModelCheckpoint") and arguments.get("save_last")
        if saves_last and arguments.get("dirpath"):
            return dict(arguments)
    raise ValueError(
        f"train: {str(path)!r} has no ModelCheckpoint callback with save_last: true and a dirpath; "
        "add one (as every example config has), or train it yourself and give the checkpoint"
    )


def last_checkpoint(config: str | Path) -> Path:
    """Where the config's ``ModelCheckpoint`` writes ``last.ckpt`` (relative to the run's folder).

    Raises:
        ValueError: naming the config when it is unreadable or saves no ``last.ckpt`` in a ``dirpath``.
    """
    return Path(_checkpoint_arguments(config)["dirpath"]) / "last.ckpt"


def check_row(name: str, configs: Sequence[str], max_steps: int | None = None) -> None:
    """Refuse, before anything trains, a row of no config, a config that is missing or saves no
    ``last.ckpt`` in a ``dirpath``, and a ``max_steps`` after which a ``last.ckpt`` would hold an
    earlier step (Lightning saves ``last.ckpt`` at the end only when no periodic save came first).

    Raises:
        ValueError: naming the row, the config and the fix.
    """
    if not configs:
        raise ValueError(f"train.{name}: give at least one config")
    for config in configs:
        if not Path(config).is_file():
            raise ValueError(f"train.{name}: the config {config!r} does not exist")
        arguments = _checkpoint_arguments(config)
        folder = Path(arguments["dirpath"])
        if folder.is_absolute() or ".." in folder.parts:  # shared between --out folders: not this row's
            raise ValueError(
                f"train.{name}: {config} saves its checkpoints in {str(folder)!r}, outside the row's folder; "
                "give a relative dirpath without '..' (as the example configs do)"
            )
        every, steps = arguments.get("every_n_train_steps"), max_steps or _config_steps(config)
        if steps is not None and isinstance(every, int) and 0 < every < steps and steps % every:
            raise ValueError(
                f"train.{name}: with {steps} steps the last.ckpt of {config} would hold step "
                f"{steps // every * every} (it saves every {every} steps); give fewer than {every} "
                f"steps or a multiple of {every}"
            )


def stage_key(config: str | Path, max_steps: int | None) -> dict[str, Any]:
    """What a finished stage was trained from: the config's path and settings (its comments
    aside), and the step override."""
    path = Path(config).resolve()
    settings = json.dumps(read_config(path), sort_keys=True, default=str)
    return {"config": str(path), "sha256": hashlib.sha256(settings.encode()).hexdigest(), "max_steps": max_steps}


def _config_steps(config: str | Path) -> int | None:
    """The config's ``trainer.max_steps`` (None when it sets none)."""
    steps = (read_config(config).get("trainer") or {}).get("max_steps")
    return steps if isinstance(steps, int) and steps > 0 else None


def _saved_step(checkpoint: Path) -> int:
    """The optimizer step ``checkpoint`` was saved at (Lightning's ``global_step``)."""
    saved = read_checkpoint(checkpoint, "last.ckpt", tuple(METHODS), "delete it and train the row again")
    return int(saved.get("global_step", -1))


def _read_record(record: Path) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The finished stages and the stage last started from ``record`` (empty when there is
    none, or it is older or damaged: then those stages train again)."""
    try:
        saved = json.loads(record.read_text()) if record.is_file() else {}
        stages, started = saved.get("stages", []), saved.get("started") or {}
    except (ValueError, AttributeError):
        return [], {}

    def timed(entry: object, *keys: str) -> bool:
        return isinstance(entry, dict) and all(isinstance(entry.get(k), int | float) for k in keys)

    if not (isinstance(stages, list) and all(timed(stage, "seconds") for stage in stages)):
        stages = []
    if not timed(started, "began", "trained_s"):
        started = {}
    return stages, started


def _write_record(record: Path, stages: list[dict[str, Any]], started: dict[str, Any] | None) -> None:
    write_text_atomic(record, json.dumps({"stages": stages, "started": started}, indent=1))


def train_row(name: str, configs: Sequence[str], folder: Path, max_steps: int | None = None) -> tuple[Path, float]:
    """Train the configs of row ``name`` in order inside ``folder`` (their relative outputs,
    and the earlier stages a later config reads, land there); ``max_steps`` overrides each
    config's (for short trial runs).

    Each finished stage is recorded in ``folder/trained.json`` with its config's path and
    settings: a rerun skips the stages that finished with the same configs, in the same order,
    and steps. The stage in progress is recorded too, so an interrupted row resumes inside it
    from its last periodic ``last.ckpt`` (``animestyle fit --ckpt_path``); its time counts the
    training up to that checkpoint plus the time after the resume.

    Returns:
        the last config's ``last.ckpt`` and the seconds all its stages took to train.

    Raises:
        ValueError: naming the row and the config that failed (its output is shown as it
            runs), or whose ``last.ckpt`` would hold, or holds, an earlier step than its steps.
    """
    check_row(name, configs, max_steps)
    checkpoints = [folder / last_checkpoint(config) for config in configs]
    record = folder / "trained.json"
    finished, started = _read_record(record)
    folder.mkdir(parents=True, exist_ok=True)
    stages: list[dict[str, Any]] = []
    for i, (config, checkpoint) in enumerate(zip(configs, checkpoints, strict=True)):
        key = stage_key(config, max_steps)
        if i < len(finished) and {k: finished[i].get(k) for k in key} == key and checkpoint.is_file():
            stages.append(finished[i])  # trained before, with the same config and steps
            continue
        command = [sys.executable, "-c", _FIT, "fit", "--config", key["config"]]
        if max_steps is not None:
            command += ["--trainer.max_steps", str(max_steps)]
        resume = {k: started.get(k) for k in key} == key and checkpoint.is_file()
        kept = 0.0
        if resume:  # the training up to the checkpoint is kept, and counted
            kept = float(started["trained_s"]) + max(0.0, checkpoint.stat().st_mtime - float(started["began"]))
            command += ["--ckpt_path", str(checkpoint.resolve())]
        for stale in checkpoints[i + 1 if resume else i :]:  # never scored or read as if just trained
            stale.unlink(missing_ok=True)
        _write_record(record, stages, {**key, "began": time.time(), "trained_s": kept})
        finished, started = [], {}  # a later stage reads this one: every later stage trains again
        resumed = f", resumed from {checkpoint}" if resume else ""
        print(f"train.{name}: animestyle fit --config {config} (in {folder}{resumed})", flush=True)
        began = time.perf_counter()
        returncode = subprocess.run(command, cwd=folder, check=False).returncode  # its progress shows
        seconds = kept + time.perf_counter() - began
        if returncode != 0:
            raise ValueError(f"train.{name}: `animestyle fit --config {config}` failed (exit {returncode}; see above)")
        if not checkpoint.is_file():
            raise ValueError(f"train.{name}: `animestyle fit --config {config}` ended but {checkpoint} was not written")
        # A config that counts steps (not one that stops after a batch or an epoch, as Gatys's) must reach them.
        steps = (max_steps or config_steps) if (config_steps := _config_steps(config)) is not None else None
        if steps is not None and (saved := _saved_step(checkpoint)) < steps:  # e.g. a last.ckpt of another run
            raise ValueError(
                f"train.{name}: `animestyle fit --config {config}` ended but {checkpoint} holds step {saved} "
                f"of {steps}; delete {folder} to train this row from the start"
            )
        stages.append({**key, "seconds": seconds})
        _write_record(record, stages, None)
    return checkpoints[-1], sum(float(stage["seconds"]) for stage in stages)
