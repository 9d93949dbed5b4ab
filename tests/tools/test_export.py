"""``animestyle export``: checkpoints as safetensors + config.json folders that
``animestyle.load`` rebuilds exactly, and ``torch.export`` programs of the transfer function."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch

import animestyle
from animestyle.cli import main
from animestyle.data import AnimeFacesDataModule
from animestyle.data.datamodule import SyntheticSource
from animestyle.inference import Model
from animestyle.methods import CheckpointError, GADNStage1, GADNStage2
from animestyle.tools import export
from tests.fixtures import GanRun
from tests.helpers import cpu_trainer
from tests.methods.test_nst import MAKERS

INPUT_FILES = ("stage1_checkpoint", "classifier_checkpoint", "style_checkpoint", "content_checkpoint", "style_weights")


def _gadn_data() -> AnimeFacesDataModule:
    return AnimeFacesDataModule(synthetic=SyntheticSource(num_artists=4, train_size=16, val_size=8), image_size=32)


@pytest.fixture(scope="module")
def gadn(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """GADN stage-1 and stage-2 checkpoints (32 px, 4 artists, 2 steps each); the stage-1
    file that stage 2 was built from is deleted afterwards."""
    root = tmp_path_factory.mktemp("gadn")
    torch.manual_seed(0)
    stage1 = GADNStage1(num_artists=4, image_size=32, widths=[8, 16, 32], fc_width=16, content_dim=8, style_dim=4)
    cpu_trainer(root, max_steps=2, limit_val_batches=0).fit(stage1, _gadn_data())
    stage1.trainer.save_checkpoint(root / "stage1.ckpt")
    shutil.copy(root / "stage1.ckpt", root / "input.ckpt")
    stage2 = GADNStage2(num_artists=4, image_size=32, stage1_checkpoint=str(root / "input.ckpt"))
    cpu_trainer(root, max_steps=2, limit_val_batches=0).fit(stage2, _gadn_data())
    stage2.trainer.save_checkpoint(root / "stage2.ckpt")
    (root / "input.ckpt").unlink()
    return {"stage1": root / "stage1.ckpt", "stage2": root / "stage2.ckpt"}


@pytest.fixture(scope="module")
def nst(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Both NST approaches (32 px) after one iteration."""
    root = tmp_path_factory.mktemp("nst")
    paths = {}
    for name in ("dual", "encoder"):
        torch.manual_seed(0)
        model = MAKERS[name]()
        data = AnimeFacesDataModule(
            synthetic=SyntheticSource(num_artists=3, train_size=8, val_size=8), image_size=32, batch_size=4,
            attributes=[], style_pairs=True,
        )  # fmt: skip
        trainer = cpu_trainer(root / name, max_steps=3, limit_val_batches=0)
        trainer.fit(model, data)
        trainer.save_checkpoint(root / f"{name}.ckpt")
        paths[name] = root / f"{name}.ckpt"
    return paths


@pytest.fixture
def checkpoints(
    gadn: dict[str, Path],
    nst: dict[str, Path],
    tiny_metric: Path,
    tiny_vae: Path,
    gan_run: GanRun,
    tiny_editor: Path,
    tiny_attribute_classifier: Path,
) -> dict[str, Path]:
    return {
        **gadn,
        **nst,
        "metric": tiny_metric,
        "vae": tiny_vae,
        "gan": gan_run.checkpoint,
        "editor": tiny_editor,
        "attribute_classifier": tiny_attribute_classifier,
    }


def _images(model: Model, count: int, seed: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.rand(count, len(model.channels), model.image_size, model.image_size, generator=generator) * 2 - 1


def _outputs(model: Model) -> dict[str, torch.Tensor]:
    """Everything ``model`` can do, on fixed images."""
    x = _images(model, 3, 0)
    outputs = {}
    operations = model.operations()
    if "transfer(images, artist=...)" in operations:
        outputs["transfer_artist"] = model.transfer(x, artist=1)
    if "transfer(images, reference=...)" in operations:
        outputs["transfer_reference"] = model.transfer(x, reference=_images(model, 1, 1)[:, :3])
    if "edit(images, <attribute>=True/False, ...)" in operations:
        outputs["edit"] = model.edit(x, **{model.attributes[0]: True})
    if "encode(images)" in operations:
        outputs["encode"] = model.encode(x)
    if callable(getattr(model.module, "predict", None)):  # the attribute classifier
        with torch.no_grad():
            outputs["predict"] = model.module.predict(x)
    return outputs


@pytest.mark.parametrize(
    "name", ["stage1", "stage2", "dual", "encoder", "metric", "vae", "gan", "editor", "attribute_classifier"]
)
def test_the_exported_folder_rebuilds_the_model_exactly(
    name: str, checkpoints: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "exported"
    written = export(str(checkpoints[name]), str(out))
    assert sorted(path.name for path in written) == ["config.json", "model.safetensors"]
    config = json.loads((out / "config.json").read_text())
    assert config["animestyle_version"] == animestyle.__version__
    assert all(config["arguments"].get(argument) is None for argument in INPUT_FILES)  # rebuilt without them

    original, exported = animestyle.load(checkpoints[name], device="cpu"), animestyle.load(out, device="cpu")
    assert type(exported.module) is type(original.module)
    assert not any(m.training for m in exported.module.modules())
    for attribute in ("method", "artists", "attributes", "image_size", "channels"):
        assert getattr(exported, attribute) == getattr(original, attribute), attribute
    saved = original.module.state_dict()
    assert exported.module.state_dict().keys() == saved.keys()
    for key, value in exported.module.state_dict().items():
        assert torch.equal(value, saved[key]), key
    expected, got = _outputs(original), _outputs(exported)
    assert expected
    assert got.keys() == expected.keys()
    for operation, value in expected.items():
        assert torch.equal(got[operation], value), operation


def _program_inputs(name: str, model: Model) -> tuple[torch.Tensor, torch.Tensor]:
    x = _images(model, 3, 0)
    if name in ("stage1", "stage2"):
        return x, torch.tensor([0, 3, 1])
    if name == "editor":
        return x, torch.tensor([[1.0] + [0.0] * (len(model.attributes) - 1)] * 3)
    return x, _images(model, 3, 1)


def _eager(name: str, model: Model, x: torch.Tensor, condition: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        if name in ("stage1", "stage2"):
            return model.module.transfer_to_artists(x, condition)
        if name == "editor":
            return model.module.generator(x, condition).clamp(-1, 1)
        return model.module.transfer_like(x, condition)


@pytest.mark.parametrize("name", ["stage1", "stage2", "dual", "encoder", "vae", "gan", "editor"])
def test_the_exported_program_matches_eager(name: str, checkpoints: dict[str, Path], tmp_path: Path) -> None:
    written = export(str(checkpoints[name]), str(tmp_path / "out"), torch_export=True)
    assert tmp_path / "out" / "transfer.pt2" in written
    program = torch.export.load(str(tmp_path / "out" / "transfer.pt2")).module()
    model = animestyle.load(checkpoints[name], device="cpu")
    x, condition = _program_inputs(name, model)  # a batch of 3: exported for any batch size
    torch.testing.assert_close(program(x, condition), _eager(name, model, x, condition), rtol=0, atol=1e-5)


def test_torch_export_is_skipped_with_a_message_for_a_method_that_cannot_transfer(
    tiny_metric: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    written = export(str(tiny_metric), str(tmp_path / "out"), torch_export=True)
    assert sorted(path.name for path in written) == ["config.json", "model.safetensors"]
    assert "skipped transfer.pt2: MetricStyleEncoder neither transfers nor edits" in capsys.readouterr().out


def test_the_command_writes_the_folder_and_replaces_an_earlier_export(gadn: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "out"
    main(["export", str(gadn["stage1"]), str(out)])
    assert sorted(path.name for path in out.iterdir()) == ["config.json", "model.safetensors"]
    main(["export", str(gadn["stage2"]), str(out)])  # an earlier export: replaced
    assert json.loads((out / "config.json").read_text())["method"] == "GADNStage2"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["out"]  # no temporary folders left


def _listing(root: Path) -> list[str]:
    return sorted(str(path.relative_to(root)) for path in root.rglob("*"))


def test_bad_input_is_one_line_and_writes_nothing(gadn: dict[str, Path], tmp_path: Path) -> None:
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    (tmp_path / "notes.ckpt").write_text("not a checkpoint")
    before = _listing(tmp_path)
    with pytest.raises(SystemExit, match=r"^animestyle export: error: out_dir='.*busy' holds other files"):
        main(["export", str(gadn["stage1"]), str(tmp_path / "busy")])
    with pytest.raises(SystemExit, match=r"^animestyle export: error: checkpoint='.*notes\.ckpt' is not a readable"):
        main(["export", str(tmp_path / "notes.ckpt"), str(tmp_path / "out")])
    with pytest.raises(SystemExit, match=r"^animestyle export: error: out_dir='.*notes\.txt' is a file"):
        main(["export", str(gadn["stage1"]), str(tmp_path / "busy" / "notes.txt")])
    assert _listing(tmp_path) == before
    main(["export", str(gadn["stage1"]), str(tmp_path / "busy"), "--overwrite", "true"])
    assert sorted(path.name for path in (tmp_path / "busy").iterdir()) == ["config.json", "model.safetensors"]


def test_load_names_the_missing_config_and_the_fix(tmp_path: Path) -> None:
    with pytest.raises(
        CheckpointError, match=r"config\.json' does not exist; give a folder written by `animestyle export CHECKPOINT"
    ):
        animestyle.load(tmp_path)


def test_load_refuses_weights_that_do_not_fit(gadn: dict[str, Path], tmp_path: Path) -> None:
    export(str(gadn["stage1"]), str(tmp_path / "one"))
    export(str(gadn["stage2"]), str(tmp_path / "two"))
    shutil.copy(tmp_path / "two" / "model.safetensors", tmp_path / "one" / "model.safetensors")
    with pytest.raises(CheckpointError, match=r"model\.safetensors' does not fit"):
        animestyle.load(tmp_path / "one")
