"""``animestyle.inference``: checkpoints into ready models, image files into batches."""

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from PIL import Image

import animestyle
from animestyle.data import AnimeFacesDataModule
from animestyle.data.datamodule import SyntheticSource
from animestyle.data.synthetic import SyntheticPortraits
from animestyle.inference import METHODS, Model, load_checkpoint, load_images
from animestyle.methods import AttributeEditor, CheckpointError, GADNStage1, GADNStage2
from animestyle.tools.export import export
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
    assert type(model.module) is GADNStage1
    assert not any(m.training for m in model.module.modules())
    assert model.device == torch.device("cpu")
    saved = torch.load(stage1_checkpoint, map_location="cpu", weights_only=True)["state_dict"]
    for key, value in model.module.state_dict().items():
        torch.testing.assert_close(value, saved[key], rtol=0, atol=0, msg=key)
    # the names of the training data travel with the checkpoint
    assert model.artists == ["artist_0000", "artist_0001", "artist_0002", "artist_0003"]
    assert (model.method, model.image_size, model.channels) == ("GADNStage1", 32, "rgb")


@pytest.mark.parametrize("speed_up", ["fuse", "compile"])
def test_load_switches_off_the_compiling_speed_ups_a_model_trained_with(tmp_path: Path, speed_up: str) -> None:
    """A checkpoint trained with ``fuse`` or ``compile``, and its export, load as plain eager
    modules: the machine that uses them may have no C++ compiler."""
    model = GADNStage1(num_artists=4, image_size=32, widths=[8, 16, 32], fc_width=16, content_dim=8, style_dim=4,
                       **{speed_up: True})  # fmt: skip
    assert any(getattr(m, "fused", False) or m._compiled_call_impl is not None for m in model.modules())
    trainer = cpu_trainer(tmp_path, max_steps=0)
    trainer.strategy.connect(model)
    trainer.save_checkpoint(tmp_path / "trained.ckpt")
    export(str(tmp_path / "trained.ckpt"), str(tmp_path / "exported"))
    config = json.loads((tmp_path / "exported" / "config.json").read_text())
    config["arguments"][speed_up] = True  # an export written with the speed-up on
    (tmp_path / "exported" / "config.json").write_text(json.dumps(config))
    for source in ("trained.ckpt", "exported"):
        loaded = animestyle.load(tmp_path / source, device="cpu").module
        assert not any(getattr(m, "fused", False) for m in loaded.modules()), source
        assert all(m._compiled_call_impl is None for m in loaded.modules()), source  # what nn.Module.compile() sets
        assert (loaded.hparams["fuse"], loaded.hparams["compile"]) == (False, False), source


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


# --- one interface for every method ----------------------------------------------------------


def _faces(count: int, size: int = 32) -> torch.Tensor:
    """Held-out synthetic portraits (count, 3, size, size) in [-1, 1]."""
    portraits = SyntheticPortraits(length=count, num_artists=4, size=size, seed=5, split="val")
    return torch.stack([portraits[i]["x"] for i in range(count)])


def _check_images(y: torch.Tensor, x: torch.Tensor) -> None:
    """Same shape as the input, in [-1, 1], finite, and not the input given back."""
    assert y.shape == x.shape
    assert torch.isfinite(y).all()
    assert y.min() >= -1
    assert y.max() <= 1
    assert (y - x).abs().mean() > 1e-3


def _refuses(model: Model, call: str, **kwargs: object) -> None:
    """``call`` (transfer, edit or encode) raises a ValueError that lists what the model can do."""
    with pytest.raises(ValueError, match=rf"{model.method} cannot .*; it can: "):
        getattr(model, call)(_faces(1), **kwargs)


@pytest.fixture(scope="module")
def stage2_checkpoint(stage1_checkpoint: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("stage2")
    torch.manual_seed(0)
    model = GADNStage2(num_artists=4, image_size=32, stage1_checkpoint=str(stage1_checkpoint))
    trainer = cpu_trainer(root, max_steps=4, limit_val_batches=0)
    trainer.fit(model, _gadn_data())
    trainer.save_checkpoint(root / "stage2.ckpt")
    return root / "stage2.ckpt"


def _gadn_data() -> AnimeFacesDataModule:
    return AnimeFacesDataModule(synthetic=SyntheticSource(num_artists=4, train_size=32, val_size=8), image_size=32)


@pytest.mark.parametrize("stage", ["stage1", "stage2"])
def test_gadn_transfers_by_artist_name_or_index_and_encodes(stage: str, request: pytest.FixtureRequest) -> None:
    model = animestyle.load(request.getfixturevalue(f"{stage}_checkpoint"), device="cpu")
    x = _faces(3)
    y = model.transfer(x, artist="artist_0002")
    _check_images(y, x)
    torch.testing.assert_close(model.transfer(x, artist=2), y)
    torch.testing.assert_close(model.transfer(x[0], artist=2), y[0])  # one image (C, H, W)
    assert not torch.equal(model.transfer(x, artist=0), y)  # the artist matters
    assert model.encode(x).shape == (3, 8)
    assert model.operations() == ["transfer(images, artist=...)", "encode(images)"]
    _refuses(model, "transfer", reference=_faces(1))
    _refuses(model, "edit", smile=True)
    with pytest.raises(ValueError, match=r"artist='artist_02' is not one of .*closest: artist_0002"):
        model.transfer(x, artist="artist_02")
    with pytest.raises(ValueError, match=r"artist=7 is not an index of this model's 4 artists"):
        model.transfer(x, artist=7)
    with pytest.raises(ValueError, match=r"either artist=.* or reference="):
        model.transfer(x)


def test_pictures_of_any_shape_come_back_at_their_own_size(stage1_checkpoint: Path, tmp_path: Path) -> None:
    """Paths and PIL images in, PIL images out; a picture that is not square is padded with
    transparency for the model, never squashed, and cropped back."""
    model = animestyle.load(stage1_checkpoint, device="cpu")
    portrait = SyntheticPortraits(length=1, num_artists=4, size=64, seed=5).image(0)
    wide = Image.new("RGB", (96, 64), (255, 255, 255))
    wide.paste(portrait, (16, 0))
    wide.save(tmp_path / "wide.png")
    (out,) = model.transfer([tmp_path / "wide.png"], artist=1)
    assert isinstance(out, Image.Image)
    assert out.size == (96, 64)
    single = model.transfer(wide, artist=1)
    assert isinstance(single, Image.Image)
    assert single.size == (96, 64)
    assert np.asarray(single).tolist() == np.asarray(out).tolist()
    with pytest.raises(ValueError, match=r"cannot read image '.*missing\.png'"):
        model.transfer([tmp_path / "wide.png", tmp_path / "missing.png"], artist=1)
    with pytest.raises(ValueError, match=r"images must be \(B, 3, 32, 32\)"):
        model.transfer(torch.zeros(1, 3, 64, 64), artist=1)


@pytest.mark.parametrize("name", ["dual", "encoder"])
def test_reference_guided_transfer_with_one_or_one_reference_each(name: str, tmp_path: Path) -> None:
    from tests.methods.test_nst import MAKERS, _data

    torch.manual_seed(0)
    trainer = cpu_trainer(tmp_path, max_steps=3, limit_val_batches=0)
    trainer.fit(MAKERS[name](), _data())
    trainer.save_checkpoint(tmp_path / "nst.ckpt")
    model = animestyle.load(tmp_path / "nst.ckpt", device="cpu")
    x, styles = _faces(3), _faces(3).flip(0)
    _check_images(model.transfer(x, reference=styles[0]), x)
    each = model.transfer(x, reference=styles)
    torch.testing.assert_close(each[1], model.transfer(x[1:2], reference=styles[1:2])[0])
    with pytest.raises(ValueError, match="reference holds 2 images for 3 images"):
        model.transfer(x, reference=styles[:2])
    _refuses(model, "transfer", artist=0)
    _refuses(model, "encode")


def test_the_style_space_vae_and_gan_transfer_by_reference_and_encode(tiny_vae: Path, gan_run: Any) -> None:
    for path, width in ((tiny_vae, 8), (gan_run.checkpoint, None)):
        model = animestyle.load(path, device="cpu")
        x = _faces(2)
        _check_images(model.transfer(x, reference=_faces(1)), x)
        codes = model.encode(x)
        assert codes.shape[0] == 2
        if width is not None:
            assert codes.shape[1] == width
        _refuses(model, "transfer", artist=0)
        _refuses(model, "edit", smile=True)


def test_the_style_encoder_only_encodes(tiny_metric: Path) -> None:
    model = animestyle.load(tiny_metric, device="cpu")
    assert model.encode(_faces(5), batch_size=2).shape == (5, 8)  # in batches
    assert model.operations() == ["encode(images)"]
    _refuses(model, "transfer", reference=_faces(1))


def test_the_attribute_editor_edits_named_attributes(tmp_path: Path) -> None:
    names = ["smile", "blush", "pink_hair"]
    torch.manual_seed(0)
    editor = AttributeEditor(attribute_names=names, image_size=32, widths=[8, 16, 32], n_critic=1)
    data = AnimeFacesDataModule(
        synthetic=SyntheticSource(num_artists=2, train_size=16, val_size=8), image_size=32, attributes=names
    )
    trainer = cpu_trainer(tmp_path, max_steps=2, limit_val_batches=0)
    trainer.fit(editor, data)
    trainer.save_checkpoint(tmp_path / "editor.ckpt")
    model = animestyle.load(tmp_path / "editor.ckpt", device="cpu")
    assert model.attributes == names
    x = _faces(2)
    _check_images(model.edit(x, smile=True, pink_hair=True), x)
    with pytest.raises(ValueError, match=r"attributes \['glasses'\] are not this model's; it knows"):
        model.edit(x, glasses=True)
    with pytest.raises(ValueError, match="name the attributes to set"):
        model.edit(x)
    _refuses(model, "transfer", artist=0)
