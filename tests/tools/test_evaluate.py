"""``animestyle evaluate`` at CI size (32 px, 8 portraits, an oracle of 2 steps): the table's
rows and columns, the identity row scored exactly as the content images, a rerun that keeps
every finished row, and one line for each bad argument."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import torch
import yaml
from PIL import Image

from animestyle.cli import main
from animestyle.data.synthetic import SyntheticPortraits
from animestyle.metrics import TransferScores, target_artists
from animestyle.tools.evaluate import COLUMNS, _check_data, _kept_row
from animestyle.tools.training_runs import last_checkpoint

SETTINGS = ["--num_artists", "4", "--image_size", "32", "--items", "8", "--pool", "16", "--grid_items", "3"]
SETTINGS += ["--adversarial_steps", "2"]  # tests/metrics/test_adversarial.py tests the classifier
SETTINGS += ["--oracle_steps", "2", "--batch_size", "4"]


TINY_ADAIN = """
model:
  class_path: animestyle.methods.AdaIN
  init_args:
    oracle_steps: 2
data:
  synthetic: {num_artists: 4, train_size: 16, val_size: 4}
  style_pairs: true
  attributes: []
  image_size: 32
  batch_size: 4
  num_workers: 0
trainer:
  max_steps: 2
  logger: false
  enable_progress_bar: false
  callbacks:
    - class_path: lightning.pytorch.callbacks.ModelCheckpoint
      init_args: {dirpath: runs/adain, save_last: true}
"""


def run_evaluate(out: Path, checkpoints: dict[str, str], capsys: pytest.CaptureFixture[str], *more: str) -> str:
    main(["evaluate", "--checkpoints", json.dumps(checkpoints), "--out", str(out), *SETTINGS, *more])
    captured = capsys.readouterr()
    return captured.out + captured.err


def test_evaluate_writes_one_row_per_method_and_keeps_them_on_a_rerun(
    stage1: Path,
    nst: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "table"
    checkpoints = {"gadn": str(stage1), "nst": str(nst)}
    config = tmp_path / "adain.yaml"
    config.write_text(TINY_ADAIN)
    train = ["--train", json.dumps({"adain": [str(config)]})]
    printed = run_evaluate(out, checkpoints, capsys, *train)
    for name in ("table.md", "table.csv", "table.json", "grid.png"):
        assert f"wrote {out / name}" in printed

    table = json.loads((out / "table.json").read_text())
    rows = table["rows"]
    assert list(rows) == ["identity", "nearest", "adain", "gadn", "nst"]
    assert rows["gadn"]["method"] == "GADNStage1"
    assert rows["nst"]["method"] == "DualDiscriminatorNST"
    assert rows["adain"]["method"] == "AdaIN"
    assert (out / "train" / "adain" / "runs" / "adain" / "last.ckpt").is_file()
    assert rows["adain"]["training_s"] > 0
    assert rows["gadn"]["training_s"] is None  # given, not trained here
    for row in rows.values():
        assert {key for key, _ in COLUMNS} <= row.keys()
        assert 0 <= row["target_accuracy"] <= 1
        assert 0 <= row["content_accuracy"] <= 1
        assert 0 <= row["adversarial_accuracy"] <= 1
        assert row["fid_inception"] is None  # no weights file given: Inception is never built
    with (out / "table.csv").open() as file:
        lines = list(csv.reader(file))
    assert lines[0] == ["row", "method", *(key for key, _ in COLUMNS)]
    assert [line[0] for line in lines[1:]] == list(rows)
    markdown = (out / "table.md").read_text()
    assert all(f"| {name} |" in markdown for name in rows)
    with Image.open(out / "grid.png") as grid:  # 3 contents; content, true render, then 5 rows; 32 px x 3
        assert grid.size == (7 * 97 + 1, 3 * 97 + 1)

    # The identity row scores exactly as the content images against the true renders.
    test = SyntheticPortraits(length=8, num_artists=4, size=32, seed=0, split="test")
    x = torch.stack([test[i]["x"] for i in range(8)])
    source = torch.tensor([test.artist(i) for i in range(8)])
    truth = torch.stack([test.transfer(i, int(a)) for i, a in enumerate(target_artists(source, 4, 0))])
    metric = TransferScores()
    metric.update(x, truth)
    expected = {k: float(v) for k, v in metric.compute().items()}
    assert {k: rows["identity"][k] for k in expected} == expected
    assert rows["nearest"]["l1"] != rows["identity"]["l1"]

    before = {p.name: p.stat().st_mtime_ns for p in (out / "rows").iterdir()}
    again = run_evaluate(out, checkpoints, capsys, *train)
    assert all(f"{name}: kept" in again for name in rows)
    assert {p.name: p.stat().st_mtime_ns for p in (out / "rows").iterdir()} == before
    assert json.loads((out / "table.json").read_text())["rows"] == rows

    fewer = run_evaluate(out, checkpoints, capsys, *train, "--grid_items", "2")  # its pictures kept are enough
    assert all(f"{name}: kept" in fewer for name in rows)
    with Image.open(out / "grid.png") as grid:
        assert grid.size == (7 * 97 + 1, 2 * 97 + 1)
    more = run_evaluate(out, {}, capsys, "--grid_items", "4")  # more pictures than were kept: scored again
    assert "identity: kept" not in more
    with Image.open(out / "grid.png") as grid:
        assert grid.size == (4 * 97 + 1, 4 * 97 + 1)


@pytest.mark.parametrize(
    ("checkpoints", "message"),
    [
        ({"gadn": "missing.ckpt"}, "checkpoints.gadn='missing.ckpt' does not exist; train it first or fix the path"),
        ({"identity": "x.ckpt"}, "the row names ['identity'] are the baselines'; rename those rows"),
    ],
)
def test_evaluate_refuses_bad_checkpoints_in_one_line(
    checkpoints: dict[str, str], message: str, tmp_path: Path
) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["evaluate", "--checkpoints", json.dumps(checkpoints), "--out", str(tmp_path), *SETTINGS])
    assert str(stopped.value) == f"animestyle evaluate: error: {message}"


def test_a_model_of_another_size_is_refused_with_the_size_to_use(stage1: Path, tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["evaluate", "--checkpoints", json.dumps({"gadn": str(stage1)}), "--out", str(tmp_path), *SETTINGS,
              "--image_size", "64"])  # fmt: skip
    assert str(stopped.value) == (
        "animestyle evaluate: error: checkpoints.gadn was trained on SyntheticPortraits with image_size=32: "
        "run it with --image_size 32"
    )
    assert not (tmp_path / "rows").exists()  # refused before anything is scored


@pytest.mark.parametrize(
    ("more", "expected"),
    [
        (["--seed", "1"], "seed=0: run it with --seed 0"),
        (["--num_artists", "5"], "num_artists=4: run it with --num_artists 4"),
    ],
)
def test_a_model_trained_on_other_portraits_is_refused_up_front(
    stage1: Path, tmp_path: Path, more: list[str], expected: str
) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["evaluate", "--checkpoints", json.dumps({"gadn": str(stage1)}), "--out", str(tmp_path / "out"),
              *SETTINGS, *more])  # fmt: skip
    assert (
        str(stopped.value)
        == f"animestyle evaluate: error: checkpoints.gadn was trained on SyntheticPortraits with {expected}"
    )
    assert not (tmp_path / "out").exists()  # nothing scored


def test_the_rows_before_a_failing_one_are_in_the_table(tmp_path: Path) -> None:
    broken = tmp_path / "broken.ckpt"
    broken.write_text("not a checkpoint")
    with pytest.raises(SystemExit, match="broken"):
        main(
            [
                "evaluate",
                "--checkpoints",
                json.dumps({"broken": str(broken)}),
                "--out",
                str(tmp_path / "out"),
                *SETTINGS,
            ]
        )
    rows = json.loads((tmp_path / "out" / "table.json").read_text())["rows"]
    assert list(rows) == ["identity", "nearest"]
    with Image.open(tmp_path / "out" / "grid.png") as grid:  # content, true render, identity, nearest
        assert grid.size == (4 * 97 + 1, 3 * 97 + 1)


def test_a_config_trained_on_other_portraits_is_refused_before_training(tmp_path: Path) -> None:
    config = tmp_path / "adain.yaml"
    config.write_text(TINY_ADAIN)
    with pytest.raises(SystemExit) as stopped:
        main(["evaluate", "--train", json.dumps({"adain": [str(config)]}), "--out", str(tmp_path / "out"), *SETTINGS,
              "--seed", "1", "--image_size", "64"])  # fmt: skip
    assert str(stopped.value) == (
        f"animestyle evaluate: error: train.adain: {config} trains on SyntheticPortraits with seed=0, "
        "image_size=32: run it with --seed 0 --image_size 32"
    )
    assert not (tmp_path / "out").exists()


def test_a_damaged_row_is_scored_again(tmp_path: Path) -> None:
    saved, pictures = tmp_path / "gadn.json", tmp_path / "gadn.pt"
    saved.write_text(json.dumps({"key": {"seed": 0}, "row": {"l1": 0.1}}))
    torch.save(torch.zeros(3, 3, 8, 8), pictures)
    row, kept = _kept_row(saved, pictures, {"seed": 0}, grid_items=2)
    assert row == {"l1": 0.1}
    assert kept.shape == (2, 3, 8, 8)
    assert _kept_row(saved, pictures, {"seed": 1}, grid_items=2) is None  # other settings
    assert _kept_row(saved, pictures, {"seed": 0}, grid_items=4) is None  # too few pictures kept
    pictures.write_bytes(pictures.read_bytes()[:100])  # a write cut short
    assert _kept_row(saved, pictures, {"seed": 0}, grid_items=2) is None


def test_a_model_trained_on_a_folder_is_refused_and_an_unknown_one_passes() -> None:
    wanted = {"num_artists": 8, "seed": 0, "image_size": 32}
    with pytest.raises(ValueError, match=r"^checkpoints\.mine was trained on 'faces/', not on the synthetic portraits"):
        _check_data("checkpoints.mine was trained", {"synthetic": None, "folder": "faces/"}, wanted)
    _check_data("checkpoints.mine was trained", None, wanted)  # no data recorded (e.g. saved by hand): as given
    with pytest.raises(ValueError, match=r"num_artists=32: run it with --num_artists 32$"):
        _check_data("checkpoints.mine was trained", {"synthetic": None}, wanted)  # the data module's default


def test_a_config_that_saves_no_last_checkpoint_is_refused_before_training(tmp_path: Path) -> None:
    config = tmp_path / "plain.yaml"
    config.write_text(TINY_ADAIN.split("  callbacks:")[0])
    with pytest.raises(SystemExit) as stopped:
        main(["evaluate", "--train", json.dumps({"adain": [str(config)]}), "--out", str(tmp_path), *SETTINGS])
    assert "has no ModelCheckpoint callback with save_last: true" in str(stopped.value)
    assert not (tmp_path / "train").exists()


@pytest.mark.parametrize(
    ("example", "rows"),
    [
        ("synthetic32", {"gadn", "adain", "gatys", "stargan"}),
        ("synthetic64", {"gadn", "style_space", "nst_dual", "nst_encoder", "adain", "gatys", "stargan"}),
    ],
)
def test_the_example_configs_name_configs_that_save_their_checkpoints(
    example: str, rows: set[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """examples/evaluate/*.yaml parse, and every config they train exists, is of their size and
    artist count, and saves a last.ckpt (from the repository root, where their comments say to
    run them)."""
    repo = Path(__file__).resolve().parents[2]
    with pytest.raises(SystemExit) as printed:
        main(["evaluate", "--config", str(repo / f"examples/evaluate/{example}.yaml"), "--print_config"])
    assert printed.value.code == 0
    settings = yaml.safe_load(capsys.readouterr().out)
    assert set(settings["train"]) == rows
    for configs in settings["train"].values():
        for config in configs:
            assert last_checkpoint(repo / config).name == "last.ckpt"
            data = yaml.safe_load((repo / config).read_text())["data"]
            size_and_artists = (data["image_size"], data["synthetic"]["num_artists"])
            assert size_and_artists == (settings["image_size"], settings["num_artists"]), config


@pytest.fixture(scope="module")
def inception_weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A weights file in the layout of torch-fidelity's Inception-v3 (random weights: nothing
    can be downloaded here), written by building the network with its loading switched off."""
    import torch_fidelity.feature_extractor_inceptionv3 as fidelity

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(fidelity, "load_state_dict_from_url", lambda *args, **kwargs: {})
        patch.setattr(fidelity.FeatureExtractorInceptionV3, "load_state_dict", lambda *args, **kwargs: None)
        torch.manual_seed(0)
        network = fidelity.FeatureExtractorInceptionV3("inception-v3-compat", ["2048"])
    path = tmp_path_factory.mktemp("inception") / "pt_inception.pth"
    torch.save(network.state_dict(), path)
    return path


def test_inception_columns_are_torchmetrics_fid_over_the_given_weights(
    inception_weights: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from torchmetrics.image.fid import FrechetInceptionDistance

    items = 4  # Inception reads 299 px: few images
    run_evaluate(tmp_path, {}, capsys, "--inception", str(inception_weights), "--items", str(items))
    rows = json.loads((tmp_path / "table.json").read_text())["rows"]
    test = SyntheticPortraits(length=items, num_artists=4, size=32, seed=0, split="test")
    x = torch.stack([test[i]["x"] for i in range(items)])
    source = torch.tensor([test.artist(i) for i in range(items)])
    truth = torch.stack([test.transfer(i, int(a)) for i, a in enumerate(target_artists(source, 4, 0))])
    fid = FrechetInceptionDistance(feature=2048, normalize=True, feature_extractor_weights_path=str(inception_weights))
    fid.update((truth + 1) / 2, real=True)
    fid.update((x + 1) / 2, real=False)
    assert rows["identity"]["fid_inception"] == pytest.approx(float(fid.compute()), rel=1e-4)
    assert rows["nearest"]["kid_inception"] is not None
    assert rows["nearest"]["fid_inception"] != rows["identity"]["fid_inception"]


def test_inception_weights_that_are_not_there_are_refused_in_one_line(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["evaluate", "--out", str(tmp_path / "out"), *SETTINGS, "--inception", str(tmp_path / "nothing.pth")])
    assert str(stopped.value).startswith(f"animestyle evaluate: error: inception={str(tmp_path / 'nothing.pth')!r} is")
    assert not (tmp_path / "out").exists()
