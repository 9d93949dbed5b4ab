"""Every subcommand of `animestyle` works for every method or is not offered, tried as a user
tries it: the `animestyle` command in a subprocess, on each method's example config (the
runs whose files are read rather than their output are forked from the test process, which
has Lightning imported already: ``run_quietly``).

- ``fit --ckpt_path`` resumes exactly: a run resumed from its checkpoint after 2 iterations
  ends, after 4, with the weights of an uninterrupted run of 4 (CPU, bit for bit).
- ``validate`` and ``test`` report the same measures, under ``val/`` and ``test/``; ``test``
  reads the data's test split (synthetic: a held-out stream of its own; a manifest: its
  ``test`` rows, and one line saying how to add them when it has none).
- ``predict``, ``--optimizer`` and ``--lr_scheduler`` are refused in one line naming what to
  use instead.
- ``WANDB_MODE=disabled`` and ``--trainer.logger false`` keep W&B off, whatever the config says.

The runs are tiny (32 px, 4 images a batch, networks a few channels wide) and shared within a
family of methods (stage 2 reads stage 1's checkpoint): one xdist group per family.
"""

from __future__ import annotations

import csv
import math
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import torch
import yaml

from tests.helpers import run_quietly

REPO = Path(__file__).resolve().parents[1]
BATCH = 4
ITERATIONS = 4  # of the uninterrupted run; the resumed one starts from its checkpoint at half of them


def run(*args: str, cwd: Path, env: dict[str, str] | None = None, ok: bool = True) -> subprocess.CompletedProcess[str]:
    """Run ``animestyle *args`` in ``cwd`` on one CPU thread; with ``ok`` it must succeed."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", **(env or {})}
    command = [sys.executable, "-m", "animestyle.cli", *args]
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=600, env=env)
    if ok:
        assert result.returncode == 0, f"{' '.join(args)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


def one_line_error(result: subprocess.CompletedProcess[str], alone: bool = True) -> str:
    """The error a failed command ends with, in one line, without a traceback; ``alone``: the
    command printed nothing else (it stopped before Lightning's start-up lines)."""
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = (result.stdout + result.stderr).strip().splitlines() if alone else result.stderr.strip().splitlines()[-1:]
    assert len(lines) == 1, lines
    return lines[0]


@dataclass(frozen=True)
class Method:
    """A method as its example config trains it, made tiny.

    Attributes:
        config: the example config, under examples/.
        optimizers: optimizer steps per iteration (``trainer.max_steps`` counts those).
        model: ``init_args`` that make the networks small.
        inputs: ``init_args`` naming the checkpoint of another method (its uninterrupted run).
        data: data settings beside the tiny synthetic source.
    """

    config: str
    optimizers: int
    model: dict[str, Any] = field(default_factory=dict)
    inputs: dict[str, str] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)


_GADN = {"widths": [8, 16, 32], "fc_width": 32, "content_dim": 8, "style_dim": 4}
_EDITING = {"attributes": ["blush", "glasses", "open_mouth", "black_hair", "blonde_hair"]}
# Every model class that a config under examples/ trains.
METHODS = {
    "GADNStage1": Method("gadn/synthetic32/stage1.yaml", 2, {**_GADN, "warmup": 3}),
    "GADNClassifierPretrain": Method("gadn/synthetic32/classifier.yaml", 1, _GADN),
    "GADNStage2": Method(
        "gadn/synthetic32/stage2.yaml",
        2,
        {"ema_decay": 0.5},
        {"stage1_checkpoint": "GADNStage1", "classifier_checkpoint": "GADNClassifierPretrain"},
    ),
    "MetricStyleEncoder": Method("style_space/synthetic32/metric.yaml", 1, {"widths": [8, 16, 32], "style_dim": 8}),
    "StyleConditionedVAE": Method(
        "style_space/synthetic32/vae.yaml",
        1,
        {"style_dims": 4, "content_dim": 8, "fc_width": 32},
        {"style_checkpoint": "MetricStyleEncoder"},
    ),
    "StyleContentGAN": Method(
        "style_space/synthetic32/gan.yaml",
        2,
        {"content_dims": 4, "free_dims": 2, "fc_width": 32, "discriminator_widths": [8, 16], "statistics_batches": 1},
        {"style_checkpoint": "MetricStyleEncoder", "content_checkpoint": "StyleConditionedVAE"},
    ),
    "AttributeClassifier": Method(
        "attribute_editing/synthetic64/classifier.yaml", 1, {"widths": [8, 16, 32]}, {}, _EDITING
    ),
    "AttributeEditor": Method(
        "attribute_editing/synthetic64/editor.yaml", 2, {"widths": [8, 16, 32], "fc_width": 32}, {}, _EDITING
    ),
    "DualDiscriminatorNST": Method(
        "nst/synthetic64/dual.yaml", 3, {"widths": [8, 8, 8, 8, 8], "patch_width": 8, "style_width": 8, "style_dim": 8}
    ),
    "EncoderDiscriminatorNST": Method("nst/synthetic64/encoder.yaml", 3, {"widths": [8, 8, 8, 8], "style_dim": 8}),
    "AdaIN": Method("baselines/synthetic32/adain.yaml", 1, {"oracle_steps": 2}),
    "StarGAN": Method(
        "baselines/synthetic32/stargan.yaml", 2, {"width": 4, "residual_blocks": 1, "n_critic": 1, "lr_decay": [2, 50]}
    ),
    "SyntheticOracle": Method("synthetic/oracle.yaml", 1, {"width": 8}),
}
FAMILY = {name: method.config.split("/")[0] for name, method in METHODS.items()}


# Example classes with nothing to resume: each transfer is an optimisation and no weight trains
# (tests/methods/test_baselines.py fits, validates and loads it).
UNTRAINED = {"GatysNST"}


def test_every_model_class_of_the_examples_is_tried() -> None:
    examples = (yaml.safe_load(path.read_text()) for path in (REPO / "examples").rglob("*.yaml"))
    classes = {config["model"]["class_path"].rsplit(".", 1)[1] for config in examples if "model" in config}
    assert classes == set(METHODS) | UNTRAINED


def methods() -> list[Any]:
    """Every method as a pytest parameter in its family's xdist group."""
    return [pytest.param(name, marks=pytest.mark.xdist_group(FAMILY[name])) for name in METHODS]


class Runs:
    """The uninterrupted run of each method, made on first use (with those it reads)."""

    def __init__(self, root: Path):
        self.root = root
        self.done: dict[str, Path] = {}

    def config(self, name: str, folder: Path) -> list[str]:
        """``--config`` arguments: the method's example, then the tiny settings for ``folder``."""
        method = METHODS[name]
        inputs = {key: str(self.checkpoint(earlier)) for key, earlier in method.inputs.items()}
        steps = method.optimizers * ITERATIONS // 2  # a checkpoint every half run
        settings = {
            "model": {"init_args": {**method.model, **inputs}},
            "data": {
                "synthetic": {"num_artists": 4, "seed": 0, "train_size": 2 * BATCH, "val_size": BATCH},
                "image_size": 32,
                "batch_size": BATCH,
                "num_workers": 0,
                **method.data,
            },
            "trainer": {
                "max_steps": method.optimizers * ITERATIONS,
                "max_epochs": None,  # the oracle's config stops after 1
                "limit_val_batches": 0,  # a sanity check would draw random numbers in the resumed run only
                "num_sanity_val_steps": 0,
                "deterministic": True,
                "enable_progress_bar": False,
                "enable_model_summary": False,
                "default_root_dir": str(folder),
                "callbacks": [
                    {
                        "class_path": "lightning.pytorch.callbacks.ModelCheckpoint",
                        "init_args": {
                            "dirpath": str(folder / "checkpoints"),
                            "filename": "{step}",
                            "every_n_train_steps": steps,
                            "save_top_k": -1,
                        },
                    }
                ],
            },
        }
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "tiny.yaml").write_text(yaml.safe_dump(settings))
        return ["--config", str(REPO / "examples" / method.config), "--config", str(folder / "tiny.yaml")]

    def checkpoint(self, name: str, iterations: int = ITERATIONS) -> Path:
        """The uninterrupted run's checkpoint after ``iterations`` (2 epochs of 2 iterations)."""
        if name not in self.done:
            folder = self.root / name / "straight"
            run_quietly("fit", *self.config(name, folder), cwd=self.root)
            self.done[name] = folder / "checkpoints"
        return self.done[name] / f"step={METHODS[name].optimizers * iterations}.ckpt"


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Runs:
    return Runs(tmp_path_factory.mktemp("runs"))


def weights(path: Path) -> dict[str, torch.Tensor]:
    return torch.load(path, map_location="cpu", weights_only=True)["state_dict"]


# --- fit --ckpt_path ----------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("name", methods())
def test_fit_resumes_exactly_from_a_checkpoint(name: str, runs: Runs) -> None:
    halfway = runs.checkpoint(name, ITERATIONS // 2)
    straight = weights(runs.checkpoint(name))
    folder = runs.root / name / "resumed"
    run_quietly("fit", *runs.config(name, folder), "--ckpt_path", str(halfway), cwd=runs.root)
    resumed = weights(folder / "checkpoints" / runs.checkpoint(name).name)
    assert resumed.keys() == straight.keys()
    differ = [key for key, value in straight.items() if not torch.equal(resumed[key], value)]
    assert not differ, f"{name}: {differ[:5]} differ after resuming"
    # Not equal by accident: the last two iterations moved the weights.
    before = weights(halfway)
    assert any(not torch.equal(before[key], value) for key, value in straight.items() if value.is_floating_point())


# --- validate and test --------------------------------------------------------------------


def logged(folder: Path) -> dict[str, float]:
    """The last value of each metric in the CSVLogger's file under ``folder``."""
    (path,) = folder.rglob("metrics.csv")
    values: dict[str, float] = {}
    with path.open() as file:
        for row in csv.DictReader(file):
            values.update({key: float(value) for key, value in row.items() if value and key not in ("epoch", "step")})
    return values


@pytest.mark.slow
@pytest.mark.parametrize("name", methods())
def test_validate_and_test_report_the_same_measures(name: str, runs: Runs) -> None:
    checkpoint = str(runs.checkpoint(name))
    scores = {}
    for subcommand, stage in (("validate", "val"), ("test", "test")):
        folder = runs.root / name / subcommand
        logger = ["--trainer.logger", "lightning.pytorch.loggers.CSVLogger", "--trainer.logger.save_dir", str(folder)]
        batches = ["--trainer.limit_val_batches", "1", "--trainer.limit_test_batches", "1"]
        run_quietly(subcommand, *runs.config(name, folder), *batches, *logger, "--ckpt_path", checkpoint, cwd=runs.root)
        values = logged(folder)
        assert values, f"{name} {subcommand} logged nothing"
        assert all(key.startswith(f"{stage}/") for key in values), values
        assert all(math.isfinite(value) for value in values.values()), values
        scores[stage] = {key.removeprefix(f"{stage}/") for key in values}
    assert scores["val"] == scores["test"]


def _manifest(folder: Path, splits: list[str]) -> Path:
    """A manifest of synthetic crops by 2 artists, one row per split in ``splits``."""
    from animestyle.data.manifest import MANIFEST_COLUMNS, write_manifest
    from animestyle.data.synthetic import SyntheticPortraits

    portraits = SyntheticPortraits(length=len(splits), num_artists=2, size=32, seed=0)
    rows = []
    for i, split in enumerate(splits):
        crop = Path("crops") / f"{i}.png"
        (folder / crop).parent.mkdir(parents=True, exist_ok=True)
        portraits.image(i).convert("RGBA").save(folder / crop)
        row = dict.fromkeys(MANIFEST_COLUMNS, "")
        row.update(path=str(crop), artist=f"artist{i % 2}", split=split, source=f"{i}.png")
        rows.append(row)
    return write_manifest(folder / "manifest.csv", rows)


@pytest.mark.xdist_group("gadn")
def test_test_reads_the_test_rows_of_a_manifest(tmp_path: Path) -> None:
    config = REPO / "examples" / "gadn" / "synthetic32" / "classifier.yaml"
    settings = ["--data.synthetic", "null", "--data.num_workers", "0", "--data.batch_size", "2"]
    settings += ["--trainer.logger", "false"]
    settings += ["--model.init_args.widths", "[8, 16, 32]", "--model.init_args.fc_width", "32"]
    manifest = _manifest(tmp_path, ["train"] * 4 + ["val"] * 2 + ["test"] * 2)
    out = run("test", "--config", str(config), "--data.manifest", str(manifest), *settings, cwd=tmp_path).stdout
    assert "test/c2_acc" in out

    without = _manifest(tmp_path / "none", ["train"] * 4 + ["val"] * 2)
    result = run("test", "--config", str(config), "--data.manifest", str(without), *settings, cwd=tmp_path, ok=False)
    line = one_line_error(result, alone=False)
    assert line.startswith(f"animestyle: error: manifest={str(without)!r} has no rows with split 'test'"), line
    assert "animestyle validate" in line


# --- predict, --optimizer, --lr_scheduler -------------------------------------------------


def test_predict_is_not_offered_and_says_what_to_use(tmp_path: Path) -> None:
    config = REPO / "examples" / "gadn" / "synthetic32" / "stage1.yaml"
    line = one_line_error(run("predict", "--config", str(config), cwd=tmp_path, ok=False))
    assert "predict is not offered" in line
    assert "`animestyle transfer`" in line
    assert "`animestyle edit`" in line
    assert "predict" not in run("--help", cwd=tmp_path).stdout.split("\n", 2)[0]  # the usage line


@pytest.mark.parametrize(
    ("flag", "arguments"),
    [
        ("--optimizer", ["--optimizer", "Adam"]),
        ("--optimizer", ["--optimizer=torch.optim.SGD", "--optimizer.lr", "0.1"]),
        ("--lr_scheduler", ["--lr_scheduler", "StepLR", "--lr_scheduler.step_size", "10"]),
    ],
)
def test_optimizer_flags_are_refused_naming_the_model_arguments(
    flag: str, arguments: list[str], tmp_path: Path
) -> None:
    config = REPO / "examples" / "gadn" / "synthetic32" / "stage1.yaml"
    line = one_line_error(run("fit", "--config", str(config), *arguments, cwd=tmp_path, ok=False))
    assert line.startswith(f"animestyle: error: {flag} is not offered"), line
    assert "model.init_args.lr" in line
    assert "model.init_args.optimizer" in line


# --- W&B ----------------------------------------------------------------------------------


def _fit_without_wandb(tmp_path: Path, env: dict[str, str], *arguments: str) -> dict[str, Any]:
    """Fit GADN stage 1's example (a WandbLogger with ``offline: true``) for one iteration;
    no W&B file may appear. Returns the config the run saved."""
    config = REPO / "examples" / "gadn" / "synthetic32" / "stage1.yaml"
    tiny = ["--data.synthetic.train_size", "4", "--data.batch_size", "4", "--data.num_workers", "0"]
    tiny += ["--model.init_args.widths", "[8, 16, 32]", "--model.init_args.fc_width", "32"]
    tiny += ["--trainer.max_steps", "2", "--trainer.limit_val_batches", "0", "--trainer.callbacks", "[]"]
    tiny += ["--trainer.default_root_dir", "run"]
    run("fit", "--config", str(config), *tiny, *arguments, cwd=tmp_path, env=env)
    assert not [p for p in tmp_path.rglob("*") if "wandb" in p.name], "W&B wrote files"
    return yaml.safe_load((tmp_path / "run" / "config.yaml").read_text())


@pytest.mark.xdist_group("gadn")
def test_wandb_mode_disabled_overrides_an_offline_logger_in_the_config(tmp_path: Path) -> None:
    saved = _fit_without_wandb(tmp_path, {"WANDB_MODE": "disabled"})
    assert saved["trainer"]["logger"] is False


@pytest.mark.xdist_group("gadn")
def test_logger_false_keeps_wandb_off_whatever_wandb_mode_says(tmp_path: Path) -> None:
    env = {"WANDB_MODE": "offline"}  # what the config's logger would use
    saved = _fit_without_wandb(tmp_path, env, "--trainer.logger", "false")
    assert saved["trainer"]["logger"] is False
