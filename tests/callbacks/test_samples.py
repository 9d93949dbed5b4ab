"""SampleGrids: the PNG grids it writes (sizes as GADNStage1.sample_grids documents them) and
a Weights & Biases offline run holding the loss curves and the pictures on one x-axis."""

from __future__ import annotations

import json
from pathlib import Path

import lightning as L
import pytest
import torch
from PIL import Image

from animestyle.callbacks import SampleGrids
from animestyle.data import AnimeFacesDataModule, SyntheticSource
from animestyle.methods import GADNStage1

TINY = {"num_artists": 4, "image_size": 32, "widths": [8, 16, 32], "fc_width": 32, "content_dim": 8, "style_dim": 4}
SIZE = 32
IMAGES, ARTISTS = 3, 2  # grid rows (contents) and columns (artists): unequal, so a transposed grid shows


def fit(root: Path, iterations: int, callback: SampleGrids, logger: object = False) -> GADNStage1:
    L.seed_everything(0, verbose=False)
    model = GADNStage1(**TINY)
    source = SyntheticSource(num_artists=4, train_size=4 * 8, val_size=8)
    trainer = L.Trainer(
        default_root_dir=root,
        accelerator="cpu",
        devices=1,
        max_steps=2 * iterations,  # 2 optimizer steps per iteration
        limit_val_batches=0,
        logger=logger,  # type: ignore[arg-type]
        log_every_n_steps=1,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        callbacks=[callback],
    )
    trainer.fit(model, datamodule=AnimeFacesDataModule(synthetic=source, image_size=SIZE, batch_size=8))
    return model


def grid_size(rows: int, cols: int) -> tuple[int, int]:
    """(width, height) of a make_grid picture with padding 1."""
    return cols * (SIZE + 1) + 1, rows * (SIZE + 1) + 1


def test_writes_each_grid_every_n_iterations_and_at_the_end(tmp_path: Path) -> None:
    callback = SampleGrids(every_n_iterations=2, num_images=IMAGES, num_artists=ARTISTS)
    fit(tmp_path, iterations=5, callback=callback)
    folder = tmp_path / "samples"
    names = ("transfer", "generate", "reconstruction")
    expected = [folder / f"{name}_{i:07d}.png" for i in (2, 4, 5) for name in names]  # 5: the end of training
    assert callback.saved == expected
    assert sorted(folder.iterdir()) == sorted(expected)
    sizes = {
        "transfer": grid_size(IMAGES, 1 + ARTISTS),  # row per content: the input, then each artist
        "generate": grid_size(ARTISTS, IMAGES),  # row per artist, column per content code
        "reconstruction": grid_size(IMAGES, 3),  # input, reconstruction, style-neutral
    }
    for path in expected:
        with Image.open(path) as picture:
            assert picture.size == sizes[path.name.split("_")[0]], path.name
            assert picture.mode == "RGB"


def test_drawing_changes_no_random_stream(tmp_path: Path) -> None:
    """Pictures never change training: the same seed gives the same weights with or without."""
    with_pictures = fit(tmp_path / "a", iterations=3, callback=SampleGrids(every_n_iterations=1))
    without = fit(tmp_path / "b", iterations=3, callback=L.Callback())  # type: ignore[arg-type]
    for (name, a), b in zip(with_pictures.state_dict().items(), without.state_dict().values(), strict=True):
        assert torch.equal(a, b), name


def history(log: Path) -> list[dict[str, object]]:
    """The history rows of an offline run's ``run-*.wandb`` file: a LevelDB-style log (the
    format ``wandb sync`` reads) of ``Record`` protobufs in 32 KiB blocks."""
    from wandb.proto import wandb_internal_pb2

    data = log.read_bytes()
    assert data[:4] == b":W&B", "not a W&B transaction log"
    block, position, payload, rows = 32768, 7, b"", []
    while position + 7 <= len(data):
        if block - position % block < 7:  # a block's tail too short for a header is padding
            position += block - position % block
            continue
        length, kind = int.from_bytes(data[position + 4 : position + 6], "little"), data[position + 6]
        payload += data[position + 7 : position + 7 + length]
        position += 7 + length
        if kind in (1, 4):  # a whole record, or the last piece of one
            record = wandb_internal_pb2.Record()
            record.ParseFromString(payload)
            if record.WhichOneof("record_type") == "history":
                rows.append(
                    {item.key or "/".join(item.nested_key): json.loads(item.value_json) for item in record.history.item}
                )
            payload = b""
    return rows


def test_wandb_offline_run_holds_losses_and_pictures(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    wandb = pytest.importorskip("wandb")
    from lightning.pytorch.loggers import WandbLogger

    # WandbLogger(offline=True) sets WANDB_MODE itself; monkeypatch puts back the suite's value.
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    for variable in ("WANDB_DIR", "WANDB_CACHE_DIR", "WANDB_CONFIG_DIR", "WANDB_DATA_DIR"):
        monkeypatch.setenv(variable, str(tmp_path / "wandb-home"))
    logger = WandbLogger(save_dir=str(tmp_path), project="test", offline=True)
    try:
        fit(tmp_path, iterations=2, callback=SampleGrids(every_n_iterations=2), logger=logger)
    finally:
        wandb.finish()
        wandb.teardown()  # stops the service process; before that, run-*.wandb may not be complete
    (run,) = (tmp_path / "wandb").glob("offline-run-*")
    (log,) = run.glob("run-*.wandb")
    for key in (b"train/rec", b"train/c1", b"samples/transfer", b"samples/generate", b"samples/reconstruction"):
        assert key in log.read_bytes(), key
    # Pictures share the loss curves' x-axis (batches), not global_step (2 per batch here).
    rows = history(log)
    steps = {key: [row["trainer/global_step"] for row in rows if key in row] for key in ("train/rec", "train/c1")}
    assert steps == {"train/rec": [0, 1], "train/c1": [0, 1]}
    for name in ("transfer", "generate", "reconstruction"):
        assert [row["trainer/global_step"] for row in rows if f"samples/{name}/_type" in row] == [1], name
    images = sorted(p.name for p in (run / "files" / "media" / "images").rglob("*.png"))
    assert {name.split("_")[0] for name in images} == {"transfer", "generate", "reconstruction"}
    assert len(images) == 3, images  # drawn once at iteration 2, not again at the end of training
    assert sorted(p.name for p in (tmp_path / "samples").iterdir()) == [
        "generate_0000002.png",
        "reconstruction_0000002.png",
        "transfer_0000002.png",
    ]
