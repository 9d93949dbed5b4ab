"""``animestyle.inference``: checkpoints into ready models, image files into batches."""

from pathlib import Path

import pytest
import torch
from PIL import Image

import animestyle
from animestyle.data import AnimeFacesDataModule
from animestyle.data.datamodule import SyntheticSource
from animestyle.inference import METHODS, load_checkpoint, load_images
from animestyle.methods import CheckpointError, GADNStage1
from tests.helpers import cpu_trainer


@pytest.fixture(scope="module")
def stage1_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A GADN stage-1 checkpoint after 2 iterations on 4 synthetic artists at 32 px."""
    root = tmp_path_factory.mktemp("stage1")
    torch.manual_seed(0)
    model = GADNStage1(num_artists=4, image_size=32, widths=[8, 16, 32], fc_width=16, content_dim=8, style_dim=4)
    data = AnimeFacesDataModule(synthetic=SyntheticSource(num_artists=4, train_size=32, val_size=8), image_size=32)
    trainer = cpu_trainer(root, max_steps=4, limit_val_batches=0)
    trainer.fit(model, data)
    trainer.save_checkpoint(root / "stage1.ckpt")
    return root / "stage1.ckpt"


def test_load_gives_the_trained_model_in_eval_mode(stage1_checkpoint: Path) -> None:
    model = animestyle.load(stage1_checkpoint, device="cpu")
    assert type(model) is GADNStage1
    assert not model.training
    assert not any(m.training for m in model.modules())
    assert model.device == torch.device("cpu")
    saved = torch.load(stage1_checkpoint, map_location="cpu", weights_only=True)["state_dict"]
    for key, value in model.state_dict().items():
        torch.testing.assert_close(value, saved[key], rtol=0, atol=0, msg=key)


def test_load_checkpoint_returns_the_record_and_refuses_other_methods(stage1_checkpoint: Path) -> None:
    _model, record = load_checkpoint(stage1_checkpoint, ("GADNStage1",))
    assert record["method"] == "GADNStage1"
    assert record["image_size"] == 32
    assert record["num_artists"] == 4
    with pytest.raises(CheckpointError, match=r"checkpoint='.*stage1\.ckpt' is a GADNStage1 checkpoint; it must come"):
        load_checkpoint(stage1_checkpoint, ("AttributeEditor",), fix="train an editor")
    with pytest.raises(CheckpointError, match=r"style=.*missing\.ckpt' does not exist; train one"):
        load_checkpoint(stage1_checkpoint.with_name("missing.ckpt"), argument="style", fix="train one")


def test_load_refuses_a_file_that_is_not_a_checkpoint(tmp_path: Path) -> None:
    (tmp_path / "notes.ckpt").write_text("not a checkpoint")
    with pytest.raises(CheckpointError, match=r"notes\.ckpt' is not a readable checkpoint"):
        animestyle.load(tmp_path / "notes.ckpt")


def test_every_method_is_registered_under_its_class_name() -> None:
    assert {name for name in animestyle.__all__ if name in METHODS} == set(METHODS)
    for name, method in METHODS.items():
        assert method.__name__ == name


def test_load_images_reads_every_file_or_names_the_bad_one(tmp_path: Path) -> None:
    Image.new("RGB", (40, 20), (255, 0, 0)).save(tmp_path / "wide.png")
    Image.new("RGBA", (16, 16), (0, 0, 0, 0)).save(tmp_path / "clear.png")
    batch = load_images([tmp_path / "wide.png", tmp_path / "clear.png"], 32)
    assert batch.shape == (2, 3, 32, 32)
    assert batch.dtype == torch.float32
    torch.testing.assert_close(batch[0, 0], torch.ones(32, 32))  # red, in [-1, 1]
    torch.testing.assert_close(batch[1], torch.zeros(3, 32, 32))  # transparent: mid grey
    (tmp_path / "text.png").write_text("hello")
    with pytest.raises(ValueError, match=r"cannot read image '.*text\.png'"):
        load_images([tmp_path / "wide.png", tmp_path / "text.png"], 32)
