"""The `animestyle` command, run as a user runs it: in a subprocess. The example configs'
one-step runs, judged by their exit status, are forked from the test process instead
(``run_quietly``), which spares each the interpreter's start and Lightning's import."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from tests.helpers import run_quietly

REPO = Path(__file__).resolve().parents[1]
# Training configs (`animestyle fit --config`); examples/evaluate holds `animestyle evaluate`'s.
EXAMPLES = sorted(p for p in (REPO / "examples").rglob("*.yaml") if p.parent.name != "evaluate")


def run(*args: str, cwd: Path, env: dict[str, str] | None = None, ok: bool = True) -> subprocess.CompletedProcess[str]:
    """Run ``animestyle *args`` in ``cwd``; with ``ok`` it must succeed."""
    command = [sys.executable, "-m", "animestyle.cli", *args]
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=600, env=env)
    if ok:
        assert result.returncode == 0, f"{' '.join(args)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


def test_help_lists_training_and_tools(tmp_path: Path) -> None:
    out = run("--help", cwd=tmp_path).stdout
    for word in ("fit", "validate", "contact-sheet", "oracle"):
        assert word in out


def test_contact_sheet_writes_a_grid(tmp_path: Path) -> None:
    run(
        "contact-sheet",
        "--out",
        "sheet/grid.png",
        "--num_artists",
        "3",
        "--num_contents",
        "4",
        "--size",
        "32",
        cwd=tmp_path,
    )
    sheet = Image.open(tmp_path / "sheet" / "grid.png")
    assert sheet.size == (84 + 4 * 32, 3 * 32)
    assert sorted(p.name for p in (tmp_path / "sheet").iterdir()) == ["grid.png"]


def test_contact_sheet_rejects_a_bad_size(tmp_path: Path) -> None:
    result = run("contact-sheet", "--size", "8", "--out", "x.png", cwd=tmp_path, ok=False)
    assert result.returncode != 0
    assert "contact-sheet: error: size=8 is not supported; use an integer from 32 to 256" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "x.png").exists()


def test_there_are_examples() -> None:
    assert EXAMPLES, "examples/**/*.yaml is empty"


@pytest.mark.parametrize("config", EXAMPLES, ids=lambda p: str(p.relative_to(REPO / "examples")))
def test_the_last_step_of_every_example_is_checkpointed(config: Path) -> None:
    """ModelCheckpoint(every_n_train_steps=n) saves nothing when training stops between two
    multiples of n (and an epoch end never comes with max_steps): the last steps would be lost."""
    import yaml

    settings = yaml.safe_load(config.read_text())
    trainer = settings.get("trainer", {})
    every = [
        c["init_args"]["every_n_train_steps"]
        for c in trainer.get("callbacks", [])
        if "every_n_train_steps" in c.get("init_args", {})
    ]
    for n in every:
        assert trainer["max_steps"] % n == 0, f"{config}: max_steps={trainer['max_steps']} is not a multiple of {n}"


def _tiny_manifest(path: Path, size: int = 256) -> None:
    """A manifest of RGBA crops like ``animestyle prepare`` writes: 2 artists, 3 + 2 crops each."""
    from animestyle.data.manifest import MANIFEST_COLUMNS, write_manifest
    from animestyle.data.synthetic import SyntheticPortraits

    portraits = SyntheticPortraits(length=10, num_artists=2, size=size, seed=0)
    rows = []
    for i in range(10):
        artist = f"artist{i % 2}"
        crop = Path("crops") / artist / f"{i}.png"
        (path.parent / crop).parent.mkdir(parents=True, exist_ok=True)
        portraits.image(i).convert("RGBA").save(path.parent / crop)
        row = dict.fromkeys(MANIFEST_COLUMNS, "")
        row.update(path=str(crop), artist=artist, tags="", split="val" if i >= 6 else "train", source=f"{i}.png")
        rows.append(row)
    write_manifest(path, rows)


# The configs whose checkpoints a config reads, in the order they must run (GADN; style space).
EARLIER_STAGES = {
    "stage2.yaml": ("stage1.yaml", "classifier.yaml"),
    "vae.yaml": ("metric.yaml",),
    "gan.yaml": ("metric.yaml", "vae.yaml"),
}


def _cpu_overrides(config: Path) -> list[str]:
    """The paper-size configs ask for bf16-mixed, which is for GPUs: on a CPU autocast to bf16
    is many times slower than fp32 and not what they are for, so the CPU runs them in fp32 and
    at 64 px (GADN's 256 px networks hold 230 M parameters: one step and the 2.7 GB checkpoint
    an earlier stage hands on took two minutes of a 2-core CI). Everything else in them (classes,
    arguments, the checkpoints one stage reads from another, callbacks, logger) runs as written;
    the GPU-marked test runs them whole, and tests/networks build every network at every size.
    The baselines' oracle trains for 2 steps instead of minutes (the oracle's training is tested
    in tests/metrics/test_oracle.py), and the style-space GAN's style statistics come from 2
    batches instead of 50 (tests/methods/test_style_space.py tests them)."""
    text = config.read_text()
    paper_size = "precision: bf16-mixed" in text and not _cuda()
    overrides = ["--trainer.precision", "32-true", "--data.image_size", "64"] if paper_size else []
    if "animestyle.methods.AdaIN" in text or "animestyle.methods.GatysNST" in text:
        overrides += ["--model.init_args.oracle_steps", "2"]
    if "animestyle.methods.StyleContentGAN" in text:
        overrides += ["--model.init_args.statistics_batches", "2"]
    return overrides


def _cuda() -> bool:
    import torch

    return torch.cuda.is_available()


class Workdirs:
    """One working folder per example folder (``examples/gadn/danbooru256``, ...), holding
    what its configs expect: the tiny manifest for the Danbooru configs and the checkpoints of
    the earlier stages, each trained once per test session (per xdist worker) and shared by
    the later stages' tests, as a user's runs share ``outputs/``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.trained: set[Path] = set()

    def __call__(self, config: Path) -> Path:
        cwd = self.root / config.parent.relative_to(REPO / "examples")
        cwd.mkdir(parents=True, exist_ok=True)
        manifest = cwd / "data" / "danbooru" / "manifest.csv"
        if "manifest:" in config.read_text() and not manifest.exists():
            _tiny_manifest(manifest)
        for name in EARLIER_STAGES.get(config.name, ()):
            self._train(config.with_name(name), cwd)
        return cwd

    def _train(self, config: Path, cwd: Path) -> None:
        """Two steps of an earlier stage (after its own earlier stages), saving last.ckpt."""
        if config in self.trained:
            return
        for name in EARLIER_STAGES.get(config.name, ()):
            self._train(config.with_name(name), cwd)
        run_quietly(
            "fit", "--config", str(config), "--trainer.max_steps", "2", "--trainer.limit_val_batches", "0",
            "--trainer.logger", "false", *_cpu_overrides(config), cwd=cwd,
        )  # fmt: skip
        self.trained.add(config)


@pytest.fixture(scope="session")
def workdirs(tmp_path_factory: pytest.TempPathFactory) -> Workdirs:
    return Workdirs(tmp_path_factory.mktemp("examples"))


def _example_params() -> list[object]:
    """Every config, grouped by example folder (one xdist worker trains a folder's earlier
    stages once); the paper-size (Danbooru) ones are marked slow."""
    params = []
    for config in EXAMPLES:
        folder = config.parent.relative_to(REPO / "examples")
        marks = [pytest.mark.xdist_group(str(folder))]
        if folder.name.startswith("danbooru"):
            marks.append(pytest.mark.slow)
        params.append(pytest.param(config, marks=marks, id=str(config.relative_to(REPO / "examples"))))
    return params


@pytest.mark.parametrize("config", _example_params())
def test_every_example_config_runs_one_step(config: Path, workdirs: Workdirs, tmp_path: Path) -> None:
    run_quietly(
        "fit", "--config", str(config), "--trainer.fast_dev_run", "true", "--trainer.default_root_dir", str(tmp_path),
        *_cpu_overrides(config), cwd=workdirs(config),
    )  # fmt: skip


@pytest.mark.gpu
@pytest.mark.skipif("not _cuda()", reason="the paper-size configs' bf16-mixed precision needs a CUDA GPU")
@pytest.mark.parametrize(
    "config",
    [c for c in EXAMPLES if "precision: bf16-mixed" in c.read_text()],
    ids=lambda p: str(p.relative_to(REPO / "examples")),
)
def test_paper_size_configs_run_one_step_in_their_precision_on_a_gpu(
    config: Path, workdirs: Workdirs, tmp_path: Path
) -> None:
    run(
        "fit", "--config", str(config), "--trainer.fast_dev_run", "true", "--trainer.default_root_dir", str(tmp_path),
        cwd=workdirs(config),
    )  # fmt: skip


def test_throughput_benchmark_runs(tmp_path: Path) -> None:
    script = REPO / "examples" / "benchmarks" / "synthetic_throughput.py"
    result = subprocess.run(
        [sys.executable, str(script), "--sizes", "32", "--seconds", "0.05", "--artists", "2"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1].split()[0] == "32"


def test_environment_variables_override_the_config(tmp_path: Path) -> None:
    config = REPO / "examples" / "synthetic" / "oracle.yaml"
    env = {**os.environ, "ANIMESTYLE_FIT__TRAINER__MAX_STEPS": "7"}
    assert "max_steps: 7" in run("fit", "--config", str(config), "--print_config", cwd=tmp_path, env=env).stdout


def test_each_subcommand_has_its_own_help(tmp_path: Path) -> None:
    assert "Perform one evaluation epoch over the validation set" in run("validate", "--help", cwd=tmp_path).stdout
    assert "Runs the full optimization routine" in run("fit", "--help", cwd=tmp_path).stdout


def test_a_bad_config_value_is_one_line_naming_it(tmp_path: Path) -> None:
    config = REPO / "examples" / "synthetic" / "oracle.yaml"
    result = run("fit", "--config", str(config), "--data.image_size", "16", cwd=tmp_path, ok=False)
    assert result.returncode == 2
    assert "error: image_size=16 is not supported; use an integer from 32 to 256" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("script", "arguments", "last_words"),
    [
        ("dataloader_throughput.py", ["--count", "40", "--batch-size", "8", "--epochs", "1"], "images/s"),
        ("prepare_throughput.py", ["--count", "4", "--workers", "1"], "4"),
    ],
)
def test_data_benchmarks_run(script: str, arguments: list[str], last_words: str, tmp_path: Path) -> None:
    command = [sys.executable, str(REPO / "examples" / "benchmarks" / script), *arguments]
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().splitlines()[-1].endswith(last_words)


def test_gadn_benchmark_runs(tmp_path: Path) -> None:
    script = REPO / "examples" / "benchmarks" / "gadn_throughput.py"
    command = [sys.executable, str(script), "--sizes", "32", "--iterations", "1", "--warmup", "1", "--depth", "shallow"]
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = [line.split() for line in result.stdout.strip().splitlines()[-2:]]
    assert [row[:3] for row in rows] == [["1", "32", "8"], ["2", "32", "8"]]
    assert all(float(row[5]) > 0 for row in rows)  # images/s
    # GFLOP per iteration, counted: stage 2 runs E, G, D and C2; stage 1 E, G twice and C1
    stage1, stage2 = (float(row[7]) for row in rows)
    assert 1 < stage1 < stage2 < 100


def test_gadn_benchmark_counts_the_networks_of_both_depths(tmp_path: Path) -> None:
    script = REPO / "examples" / "benchmarks" / "gadn_throughput.py"
    result = subprocess.run(
        [sys.executable, str(script), "--networks", "--sizes", "32"], cwd=tmp_path, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-3000:]
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in result.stdout.splitlines()[2:]]
    assert [(r[1], r[2]) for r in rows] == [
        (net, f"ours ({depth})") for depth in ("reference", "shallow") for net in ("E", "G", "C1/C2", "D")
    ]
    flops = {(r[1], r[2]): float(r[4]) for r in rows}
    assert all(flops[(net, "ours (reference)")] > 1.3 * flops[(net, "ours (shallow)")] for net in ("E", "G", "D"))


def test_danbooru_subset_example(tmp_path: Path) -> None:
    import json

    posts = [{"id": k, "rating": "s", "tag_string_artist": "big"} for k in range(6)]
    posts += [{"id": 10 + k, "rating": "s", "tag_string_artist": "small"} for k in range(2)]
    posts += [
        {"id": 20, "rating": "e", "tag_string_artist": "big"},
        {"id": 21, "rating": "s", "tag_string_artist": "big small"},
    ]
    (tmp_path / "posts.jsonl").write_text("".join(json.dumps(p) + "\n" for p in posts) + "broken line\n")
    script = REPO / "examples" / "danbooru_subset.py"
    command = [sys.executable, str(script), "posts.jsonl", "subset.jsonl", "--min-posts", "3", "--ratings", "s"]
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "6 posts by 1 artists" in result.stdout
    assert "1 unreadable lines skipped" in result.stdout
    kept = [json.loads(line)["id"] for line in (tmp_path / "subset.jsonl").read_text().splitlines()]
    assert kept == [0, 1, 2, 3, 4, 5]


def test_transfer_with_a_missing_checkpoint_is_one_line_with_the_fix(tmp_path: Path) -> None:
    result = run("transfer", "missing.ckpt", "--content", "[a.png]", "--style", "s.png", cwd=tmp_path, ok=False)
    assert result.returncode != 0
    assert "animestyle transfer: error: checkpoint='missing.ckpt' does not exist" in result.stderr
    assert "examples/nst/synthetic64/dual.yaml" in result.stderr
    assert "Traceback" not in result.stderr
    assert "--oracle" in run("nst-report", "--help", cwd=tmp_path).stdout
