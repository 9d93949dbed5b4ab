"""``train_row``, the training behind ``animestyle evaluate --train``: finished stages are kept,
an interrupted row resumes inside the stage it was in, and an edited config trains again. The
``animestyle fit`` child is replaced by a stand-in that writes the stage's ``last.ckpt``
(tests/tools/test_evaluate.py runs the real one)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import torch

from animestyle.tools import training_runs
from animestyle.tools.training_runs import train_row

CONFIG = """
trainer:
  callbacks:
    - class_path: lightning.pytorch.callbacks.ModelCheckpoint
      init_args: {{dirpath: runs/{stage}, save_last: true, every_n_train_steps: 10}}
"""


class FakeFit:
    """Stands in for ``subprocess.run`` of ``animestyle fit``: records each config it is given,
    writes its ``last.ckpt`` under the working folder, and fails the configs in ``failing``
    (after a periodic ``last.ckpt`` for those in ``saved_before_failing``)."""

    def __init__(self) -> None:
        self.trained: list[str] = []
        self.commands: list[list[str]] = []
        self.failing: set[str] = set()
        self.saved_before_failing: set[str] = set()

    def __call__(self, command: list[str], cwd: Path, check: bool) -> subprocess.CompletedProcess[str]:
        config = Path(command[command.index("--config") + 1])
        self.trained.append(config.stem)
        self.commands.append(command)
        checkpoint = cwd / training_runs.last_checkpoint(config)
        if config.stem in self.failing and config.stem not in self.saved_before_failing:
            return subprocess.CompletedProcess(command, 1)
        checkpoint.parent.mkdir(parents=True, exist_ok=True)
        steps = int(command[command.index("--trainer.max_steps") + 1]) if "--trainer.max_steps" in command else 0
        torch.save({"global_step": steps, "animestyle": {"method": "AdaIN"}}, checkpoint)
        return subprocess.CompletedProcess(command, 1 if config.stem in self.failing else 0)


@pytest.fixture
def fit(monkeypatch: pytest.MonkeyPatch) -> FakeFit:
    fake = FakeFit()
    monkeypatch.setattr(training_runs.subprocess, "run", fake)
    return fake


def configs(folder: Path, *stages: str) -> list[str]:
    paths = []
    for stage in stages:
        path = folder / f"{stage}.yaml"
        path.write_text(CONFIG.format(stage=stage))
        paths.append(str(path))
    return paths


def test_an_interrupted_row_resumes_at_the_stage_it_was_in(tmp_path: Path, fit: FakeFit) -> None:
    stages = configs(tmp_path, "stage1", "classifier", "stage2")
    out = tmp_path / "row"
    fit.failing = {"stage2"}
    with pytest.raises(ValueError, match=r"train\.gadn: `animestyle fit --config .*stage2\.yaml` failed \(exit 1"):
        train_row("gadn", stages, out)
    assert fit.trained == ["stage1", "classifier", "stage2"]

    fit.failing, fit.trained, fit.commands = set(), [], []
    checkpoint, seconds = train_row("gadn", stages, out)
    assert fit.trained == ["stage2"]  # the two finished stages are kept
    assert "--ckpt_path" not in fit.commands[0]  # it stopped before any checkpoint: from scratch
    assert checkpoint == out / "runs" / "stage2" / "last.ckpt"
    assert checkpoint.is_file()
    assert seconds > 0

    fit.trained = []
    assert train_row("gadn", stages, out) == (checkpoint, seconds)  # all finished: nothing trains
    assert fit.trained == []


def test_a_row_interrupted_after_a_periodic_checkpoint_resumes_from_it(tmp_path: Path, fit: FakeFit) -> None:
    stages = configs(tmp_path, "stage1", "stage2")
    out = tmp_path / "row"
    train_row("gadn", stages, out)
    stale = out / "runs" / "stage2" / "last.ckpt"
    Path(stages[0]).write_text(CONFIG.format(stage="stage1") + "model: {init_args: {lr: 0.001}}\n")
    fit.failing = fit.saved_before_failing = {"stage1"}  # killed after its periodic last.ckpt
    fit.trained, fit.commands = [], []
    with pytest.raises(ValueError, match="stage1"):
        train_row("gadn", stages, out)
    assert "--ckpt_path" not in fit.commands[0]  # an edited config starts over
    assert not stale.is_file()  # the later stage's old checkpoint is gone

    # The training up to the checkpoint counts: say it began 100 s before the checkpoint was saved.
    record = json.loads((out / "trained.json").read_text())
    record["started"]["began"] = (out / "runs" / "stage1" / "last.ckpt").stat().st_mtime - 100
    (out / "trained.json").write_text(json.dumps(record))
    fit.failing, fit.trained, fit.commands = set(), [], []
    train_row("gadn", stages, out)
    assert fit.trained == ["stage1", "stage2"]
    first = fit.commands[0]
    assert first[first.index("--ckpt_path") + 1] == str((out / "runs" / "stage1" / "last.ckpt").resolve())
    assert "--ckpt_path" not in fit.commands[1]  # the next stage had not started: from scratch
    assert json.loads((out / "trained.json").read_text())["stages"][0]["seconds"] >= 100


def test_a_step_count_that_would_leave_an_earlier_checkpoint_is_refused(tmp_path: Path, fit: FakeFit) -> None:
    stages = configs(tmp_path, "stage1")
    with pytest.raises(
        ValueError, match=r"train\.row: with 15 steps .* would hold step 10 .* fewer than 10 steps or a multiple of 10"
    ):
        train_row("row", stages, tmp_path / "row", max_steps=15)
    assert fit.trained == []  # refused before anything trains
    train_row("row", stages, tmp_path / "row", max_steps=20)
    train_row("row", stages, tmp_path / "row", max_steps=5)
    assert fit.trained == ["stage1", "stage1"]


def test_a_config_without_a_checkpoint_folder_of_the_rows_own_is_refused(tmp_path: Path, fit: FakeFit) -> None:
    config = tmp_path / "nofolder.yaml"
    config.write_text(CONFIG.format(stage="x").replace("dirpath: runs/x, ", ""))
    with pytest.raises(ValueError, match=r"nofolder\.yaml' has no ModelCheckpoint callback with save_last: true"):
        train_row("row", [str(config)], tmp_path / "row")
    config.write_text(CONFIG.format(stage="../shared"))
    with pytest.raises(ValueError, match=r"train\.row: .*nofolder\.yaml saves its checkpoints in 'runs/\.\./shared'"):
        train_row("row", [str(config)], tmp_path / "row")
    assert fit.trained == []


def test_a_checkpoint_short_of_the_configs_steps_is_refused(tmp_path: Path, fit: FakeFit) -> None:
    (config,) = configs(tmp_path, "stage1")
    Path(config).write_text(CONFIG.format(stage="stage1") + "  max_steps: 10\n")  # the fake saves step 0
    with pytest.raises(ValueError, match=r"train\.row: .* ended but .*last\.ckpt holds step 0 of 10; delete .*row"):
        train_row("row", [config], tmp_path / "row")


def test_a_config_that_counts_no_steps_takes_a_step_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """As Gatys's config: nothing trains and its last.ckpt holds step 0, whatever --train_steps says."""

    def no_steps(command: list[str], cwd: Path, check: bool) -> subprocess.CompletedProcess[str]:
        checkpoint = cwd / training_runs.last_checkpoint(command[command.index("--config") + 1])
        checkpoint.parent.mkdir(parents=True, exist_ok=True)
        torch.save({"global_step": 0, "animestyle": {"method": "GatysNST"}}, checkpoint)
        return subprocess.CompletedProcess(command, 0)

    monkeypatch.setattr(training_runs.subprocess, "run", no_steps)
    checkpoint, _ = train_row("gatys", configs(tmp_path, "gatys"), tmp_path / "row", max_steps=20)
    assert checkpoint.is_file()


def test_an_edited_config_trains_its_stage_and_every_later_one(tmp_path: Path, fit: FakeFit) -> None:
    stages = configs(tmp_path, "stage1", "classifier", "stage2")
    out = tmp_path / "row"
    train_row("gadn", stages, out)
    Path(stages[1]).write_text("# a comment changes nothing\n" + CONFIG.format(stage="classifier"))
    fit.trained = []
    train_row("gadn", stages, out)
    assert fit.trained == []
    Path(stages[1]).write_text(CONFIG.format(stage="classifier") + "model: {init_args: {lr: 0.001}}\n")
    train_row("gadn", stages, out)
    assert fit.trained == ["classifier", "stage2"]

    fit.trained = []
    train_row("gadn", stages, out, max_steps=5)  # other steps: every stage again
    assert fit.trained == ["stage1", "classifier", "stage2"]


def test_a_missing_checkpoint_or_a_damaged_record_trains_again(tmp_path: Path, fit: FakeFit) -> None:
    stages = configs(tmp_path, "stage1", "stage2")
    out = tmp_path / "row"
    train_row("row", stages, out)
    (out / "runs" / "stage1" / "last.ckpt").unlink()
    fit.trained = []
    train_row("row", stages, out)
    assert fit.trained == ["stage1", "stage2"]

    for damaged in ("{not json", '{"stages": [1, 2]}', '{"stages": [], "started": {"began": "x"}}'):
        (out / "trained.json").write_text(damaged)
        fit.trained = []
        train_row("row", stages, out)
        assert fit.trained == ["stage1", "stage2"]


def test_a_stage_that_writes_no_checkpoint_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def silent(command: list[str], **_: Any) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(command, 0)

    monkeypatch.setattr(training_runs.subprocess, "run", silent)
    with pytest.raises(ValueError, match=r"train\.row: .*stage1\.yaml` ended but .*last\.ckpt was not written"):
        train_row("row", configs(tmp_path, "stage1"), tmp_path / "row")
