"""``animestyle evaluate``: methods and trivial baselines scored in one table, on the same
held-out synthetic portraits, against ground truth.

Every row redraws the same ``items`` test portraits, each by a target artist drawn (seeded)
from the others, and is scored against the true render of that content by that artist
(:meth:`~animestyle.data.synthetic.SyntheticPortraits.transfer`):

- ``identity``: the content image unchanged, the floor every method must beat;
- ``nearest``: the training image of the target artist nearest to the content image (L2 in
  pixels), the ceiling of copying the style without the content;
- one row per model: trained here from example configs (``train``: ``animestyle fit`` of each
  stage in order, timed) or given as a checkpoint (``checkpoints``); any method that
  ``animestyle.load`` reads and that transfers to an artist (GADN) or like a style image (a
  test portrait of the target artist).

Columns: L1, PSNR and SSIM against the true render (:class:`~animestyle.metrics.TransferScores`);
the oracle's target-artist and content accuracy (:class:`~animestyle.metrics.OracleScores`);
the target-artist accuracy of an adversarially fine-tuned copy of the oracle (GADN's Table 8
analogue, :func:`~animestyle.metrics.adversarial_accuracy`);
FID and KID of the outputs against the true renders over the oracle's features, and over
Inception-v3 when a local weights file is given (``inception``; never from the web); the
transfer's images/s on this machine; the training's seconds.
Each finished row is saved
under ``out/rows/``: a rerun keeps it (unless its checkpoint or the settings changed), so an
interrupted run resumes.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import pickle
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from animestyle.atomic import atomic_path, write_text_atomic
from animestyle.checks import check_count
from animestyle.data.datamodule import SyntheticSource
from animestyle.data.synthetic import SyntheticPortraits
from animestyle.images import save_grid
from animestyle.inference import METHODS, Model, load
from animestyle.methods.base import CheckpointError, read_checkpoint
from animestyle.metrics import (
    DomainFeatures,
    OracleScores,
    TransferScores,
    adversarial_accuracy,
    frechet_distance,
    inception_distances,
    kernel_distance,
    load_oracle,
    markdown_table,
    style_references,
    target_artists,
)
from animestyle.metrics.oracle import STEPS as ORACLE_STEPS
from animestyle.tools.files import write_all
from animestyle.tools.training_runs import check_row, read_config, stage_key, train_row

__all__ = ["COLUMNS", "evaluate"]

# (key in a row's scores, column title)
COLUMNS = (
    ("l1", "L1 to true render"),
    ("psnr", "PSNR (dB)"),
    ("ssim", "SSIM"),
    ("target_accuracy", "target artist acc."),
    ("adversarial_accuracy", "target acc., adversarial classifier"),
    ("content_accuracy", "content acc."),
    ("fid", "FID (oracle features)"),
    ("kid", "KID (oracle features)"),
    ("fid_inception", "FID (Inception)"),
    ("kid_inception", "KID (Inception)"),
    ("images_per_s", "transfers/s"),
    ("training_s", "training (s)"),
)

GRID_CELL = 96  # pixels: grid cells of smaller portraits are enlarged to about this

# Bump when a score or column changes: rows kept from an older version are then redone.
SCORES_VERSION = 5

Redraw = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]
"""(contents (B, 3, S, S) in [-1, 1], target artists (B,), style images (B, 3, S, S): a test
portrait of each target artist) -> transfers (B, 3, S, S)."""


class _Portraits:
    """The held-out contents, their targets, true renders and style images, and the training pool.

    The style images are drawn once (seeded), so every row and batch size sees the same ones
    and drawing them is not timed as part of a transfer."""

    def __init__(self, num_artists: int, image_size: int, seed: int, items: int, pool: int):
        test = SyntheticPortraits(length=items, num_artists=num_artists, size=image_size, seed=seed, split="test")
        batch = [test[i] for i in range(items)]
        self.test = test
        self.x = torch.stack([b["x"][:3] for b in batch])
        self.content = torch.stack([b["content"] for b in batch])
        self.artist_src = torch.tensor([test.artist(i) for i in range(items)])
        self.artist_trg = target_artists(self.artist_src, num_artists, seed)
        self.x_true = torch.stack([test.transfer(i, int(a)) for i, a in enumerate(self.artist_trg)])
        try:
            references = style_references(test, self.artist_trg, seed=seed + 1)  # a stream of its own
        except ValueError as error:
            raise ValueError(f"items={items}: {error}, e.g. --items {4 * items}") from None
        self.style = torch.stack([test[int(i)]["x"][:3] for i in references])
        train = SyntheticPortraits(length=pool, num_artists=num_artists, size=image_size, seed=seed, split="train")
        self.pool = torch.stack([train[i]["x"][:3] for i in range(pool)])
        self.pool_artist = torch.tensor([train.artist(i) for i in range(pool)])


def _nearest(portraits: _Portraits) -> Redraw:
    def redraw(x: torch.Tensor, artist: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        out = torch.empty_like(x)
        for k in artist.unique().tolist():
            rows, pool = artist == k, portraits.pool[portraits.pool_artist == k]
            if not len(pool):
                raise ValueError(f"no training image of artist {k} in the pool; raise pool")
            distance = torch.cdist(x[rows].flatten(1), pool.flatten(1))
            out[rows] = pool[distance.argmin(1)]
        return out

    return redraw


def _method(model: Model, portraits: _Portraits, name: str, num_artists: int) -> Redraw:
    can, size = model.operations(), portraits.test.size
    if model.image_size != size:
        raise ValueError(
            f"row {name}: the model reads {model.image_size} px, this evaluation {size} px; "
            f"run it with --image_size {model.image_size}"
        )
    if "transfer(images, artist=...)" in can:
        if len(model.artists) != num_artists:
            raise ValueError(
                f"row {name}: the model draws {len(model.artists)} artists; this evaluation has "
                f"num_artists={num_artists}: train it on SyntheticPortraits with as many"
            )

        def by_artist(x: torch.Tensor, artist: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
            out = torch.empty_like(x)
            for k in artist.unique().tolist():
                rows = artist == k
                out[rows] = model.transfer(x[rows].to(model.device), artist=int(k)).float().cpu()
            return out

        return by_artist
    if "transfer(images, reference=...)" in can:

        def by_reference(x: torch.Tensor, artist: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
            return model.transfer(x.to(model.device), reference=style.to(model.device)).float().cpu()

        return by_reference
    raise ValueError(f"row {name}: a {model.method} cannot transfer a style; it can: {', '.join(can)}")


def _score(
    redraw: Redraw,
    portraits: _Portraits,
    oracle: Any,
    batch_size: int,
    adversarial_steps: int,
    inception: str | None,
) -> tuple[dict[str, float | None], Any]:
    """Scores of one row and its transfers (items, 3, S, S)."""
    items = len(portraits.x)
    features = DomainFeatures(oracle.trunk, num_features=oracle.heads["artist"].in_features)
    transfer, read = TransferScores(), OracleScores(oracle)
    subset_size = max(2, min(100, items // 2))
    fid, kid = frechet_distance(features), kernel_distance(features, subset_size=subset_size)
    distances = {"": (fid, kid)}
    if inception is not None:
        distances["_inception"] = inception_distances(inception, subset_size)
    outputs, seconds = [], 0.0
    for start in tqdm(range(0, items, batch_size), desc="  batches", leave=False):
        part = slice(start, start + batch_size)
        began = time.perf_counter()
        x_fake = redraw(portraits.x[part], portraits.artist_trg[part], portraits.style[part]).float().clamp(-1, 1)
        seconds += time.perf_counter() - began
        x_true = portraits.x_true[part]
        transfer.update(x_fake, x_true)
        read.update(x_fake, portraits.artist_trg[part], portraits.artist_src[part], portraits.content[part])
        for metric in (m for pair in distances.values() for m in pair):
            metric.update((x_true + 1) / 2, real=True)
            metric.update((x_fake + 1) / 2, real=False)
        outputs.append(x_fake)
    scores: dict[str, float | None] = {k: float(v) for k, v in {**transfer.compute(), **read.compute()}.items()}
    scores.update(fid_inception=None, kid_inception=None, images_per_s=items / max(seconds, 1e-9))
    for suffix, (fid, kid) in distances.items():
        with torch.random.fork_rng():  # KID draws its subsets from the global stream: fix them
            torch.manual_seed(0)
            scores[f"kid{suffix}"] = float(kid.compute()[0])
        scores[f"fid{suffix}"] = float(fid.compute())
    fakes = torch.cat(outputs)
    scores["adversarial_accuracy"] = adversarial_accuracy(
        oracle, portraits.pool, portraits.pool_artist, fakes, portraits.artist_trg, steps=adversarial_steps
    )
    return scores, fakes


def _kept_row(
    saved: Path, pictures: Path, key: dict[str, Any], grid_items: int
) -> tuple[dict[str, Any], torch.Tensor] | None:
    """A row finished before with the same ``key`` and its first ``grid_items`` pictures; None
    when there is none, or it is damaged or has fewer pictures (then it is scored again)."""
    try:
        record = json.loads(saved.read_text())
        if record.get("key") != key:
            return None
        row, kept = record["row"], torch.load(pictures, weights_only=True)
    except (OSError, RuntimeError, EOFError, ValueError, AttributeError, KeyError, pickle.UnpicklingError):
        return None
    return (row, kept[:grid_items]) if len(kept) >= grid_items else None


def _check_data(trained: str, data: Any, wanted: dict[str, int]) -> None:
    """Refuse a model trained on other data than the portraits it would be scored on: another
    seed or artist count draws other artists, another size other pictures.

    Args:
        trained: who trained on it, for the message (e.g. ``"checkpoints.gadn was trained"``).
        data: the ``data`` arguments of its config or checkpoint (Lightning keeps them in one);
            what they leave out is the data module's default.
        wanted: this evaluation's ``num_artists``, ``seed`` and ``image_size``.
    """
    if not isinstance(data, dict):
        return  # not known (e.g. a checkpoint saved by hand): scored as given
    synthetic, source = data.get("synthetic"), data.get("manifest") or data.get("folder")
    if dataclasses.is_dataclass(synthetic) and not isinstance(synthetic, type):
        synthetic = dataclasses.asdict(synthetic)  # a SyntheticSource given in Python, not in a config
    if source and not synthetic:
        raise ValueError(
            f"{trained} on {source!r}, not on the synthetic portraits this evaluation scores against their "
            "true renders; train it with data.synthetic (as an example config does)"
        )
    synthetic = {**dataclasses.asdict(SyntheticSource()), **(synthetic if isinstance(synthetic, dict) else {})}
    used = {"num_artists": synthetic["num_artists"], "seed": synthetic["seed"]}
    if "image_size" in data:
        used["image_size"] = data["image_size"]
    differ = {k: v for k, v in used.items() if v != wanted[k]}
    if differ:
        said = ", ".join(f"{k}={v}" for k, v in differ.items())
        use = " ".join(f"--{k} {v}" for k, v in differ.items())
        raise ValueError(f"{trained} on SyntheticPortraits with {said}: run it with {use}")


def _data_of_checkpoint(name: str, path: str) -> Any:
    """The ``data`` arguments Lightning keeps in a checkpoint (None for an exported folder, or
    a file that is no method's checkpoint: :func:`~animestyle.inference.load` names what is
    wrong with it when its row is reached)."""
    if Path(path).is_dir():
        return None
    try:
        checkpoint = read_checkpoint(path, f"checkpoints.{name}", tuple(METHODS), "")
    except CheckpointError:
        return None
    return checkpoint.get("datamodule_hyper_parameters")


def _file_key(path: str) -> dict[str, Any]:
    stat = Path(path).stat()
    return {"checkpoint": str(Path(path).resolve()), "size": stat.st_size, "mtime": stat.st_mtime}


def evaluate(
    *,
    train: dict[str, list[str]] | None = None,
    train_steps: int | None = None,
    checkpoints: dict[str, str] | None = None,
    num_artists: int = 8,
    image_size: int = 32,
    seed: int = 0,
    items: int = 256,
    pool: int = 512,
    out: str = "outputs/evaluate/synthetic32",
    grid_items: int = 6,
    oracle_steps: int = ORACLE_STEPS,
    batch_size: int = 64,
    adversarial_steps: int = 200,
    inception: str | None = None,
    device: str | None = None,
) -> dict[str, dict[str, Any]]:
    """Score the trivial baselines and each checkpoint on the same held-out portraits.

    Writes ``table.md``, ``table.csv``, ``table.json`` and ``grid.png`` (rows: the first
    ``grid_items`` contents; columns: the content, the true render, then each row's transfer;
    portraits under 96 px enlarged, pixels kept sharp) into ``out``.

    Args:
        train: ``{row name: [config, ...]}``: example configs trained in order (earlier stages
            first, e.g. GADN's stage1, classifier, stage2) under ``out/train/<row>``; the last
            one's ``last.ckpt`` is scored and the training time reported. A finished training
            is reused.
        train_steps: overrides every trained config's ``trainer.max_steps`` (short trials).
        checkpoints: ``{row name: checkpoint or exported folder}`` of models trained on
            ``SyntheticPortraits`` with these ``num_artists``, ``image_size`` and ``seed``
            (e.g. the examples' ``outputs/.../last.ckpt``).
        num_artists: artists of the synthetic data.
        image_size: side of the portraits (the models' ``image_size``).
        seed: seed of the data, the target artists and the oracle.
        items: held-out portraits redrawn by every row.
        pool: training portraits the ``nearest`` row searches.
        out: output folder; finished rows are kept under ``out/rows`` and reused.
        grid_items: contents shown in ``grid.png``.
        oracle_steps: training steps of the oracle (trained once, then cached).
        batch_size: images per transfer call.
        adversarial_steps: fine-tuning steps of the adversarial classifier
            (:func:`~animestyle.metrics.adversarial_accuracy`; GADN's Table 8 analogue).
        inception: a local file of Inception-v3 weights (torch-fidelity's
            ``pt_inception-2015-12-05-6726825d.pth``): FID and KID over Inception as well
            (:func:`~animestyle.metrics.inception_distances`; needs ``animestyle[inception]``).
            None: those columns are ``-``.
        device: where the models run (default: CUDA when available).

    Returns:
        ``{row name: {"method": ..., <score>: value}}`` in table order.
    """
    checkpoints, train = dict(checkpoints or {}), dict(train or {})
    reserved = {"identity", "nearest"} & (checkpoints.keys() | train.keys())
    if reserved:
        raise ValueError(f"the row names {sorted(reserved)} are the baselines'; rename those rows")
    twice = sorted(checkpoints.keys() & train.keys())
    if twice:
        raise ValueError(f"the rows {twice} are both in train and in checkpoints; name each row once")
    if train_steps is not None:
        check_count("train_steps", train_steps, 1)
    wanted = {"num_artists": num_artists, "seed": seed, "image_size": image_size}
    for name, configs in train.items():  # every config checked before anything runs
        check_row(name, configs, train_steps)
        for config in configs:
            _check_data(f"train.{name}: {config} trains", read_config(config).get("data"), wanted)
    for name, path in checkpoints.items():
        if not Path(path).exists():
            raise ValueError(f"checkpoints.{name}={path!r} does not exist; train it first or fix the path")
        _check_data(f"checkpoints.{name} was trained", _data_of_checkpoint(name, path), wanted)
    check_count("num_artists", num_artists, 2)
    check_count("items", items, 4)  # KID needs subsets of at least 2 images
    check_count("pool", pool, num_artists)
    check_count("batch_size", batch_size, 1)
    check_count("adversarial_steps", adversarial_steps, 0)
    if inception is not None:
        inception_distances(inception, 2)  # the file and torch-fidelity checked before anything runs
    if not 1 <= grid_items <= items:
        raise ValueError(f"grid_items={grid_items!r} must be an integer from 1 to items={items}")
    folder = Path(out)
    (folder / "rows").mkdir(parents=True, exist_ok=True)
    settings: dict[str, Any] = {
        "num_artists": num_artists, "image_size": image_size, "seed": seed, "items": items, "pool": pool,
    }  # fmt: skip
    settings.update(oracle_steps=oracle_steps, adversarial_steps=adversarial_steps, batch_size=batch_size)
    settings["scores_version"] = SCORES_VERSION
    settings["inception"] = None if inception is None else _file_key(inception)
    portraits = _Portraits(num_artists, image_size, seed, items, pool)
    oracle = load_oracle(num_artists, image_size, seed, steps=oracle_steps)
    run_on = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))

    rows: dict[str, dict[str, Any]] = {}
    shown: dict[str, torch.Tensor] = {}
    plan: list[tuple[str, dict[str, Any]]] = [("identity", {}), ("nearest", {})]
    plan += [(name, {"train": [stage_key(c, train_steps) for c in configs]}) for name, configs in train.items()]
    plan += [(name, _file_key(path)) for name, path in checkpoints.items()]
    for name, source in tqdm(plan, desc="rows"):
        key = {**settings, **source}
        saved = folder / "rows" / f"{name}.json"
        pictures = saved.with_suffix(".pt")
        kept = _kept_row(saved, pictures, key, grid_items)
        if kept is not None:
            rows[name], shown[name] = kept
            tqdm.write(f"{name}: kept from {saved}")
            continue
        training_s: float | None = None
        if name == "identity":
            method, redraw = "content unchanged", lambda x, artist, style: x
        elif name == "nearest":
            method, redraw = "nearest training image of the target artist", _nearest(portraits)
        else:
            if name in train:
                checkpoint, training_s = train_row(name, train[name], folder / "train" / name, train_steps)
            else:
                checkpoint = Path(checkpoints[name])
            model = load(checkpoint, device=run_on)
            method, redraw = model.method, _method(model, portraits, name, num_artists)
        scores, outputs = _score(redraw, portraits, oracle, batch_size, adversarial_steps, inception)
        rows[name] = {"method": method, **scores, "training_s": training_s}
        shown[name] = outputs[:grid_items]
        with atomic_path(pictures) as partial:
            torch.save(shown[name], partial)
        write_text_atomic(saved, json.dumps({"key": key, "row": rows[name]}, indent=1))  # whole or absent
        _write_outputs(folder, rows, settings, portraits, shown)  # the rows so far, should a later one stop
    _write_outputs(folder, rows, settings, portraits, shown)
    write_all([folder / "table.md", folder / "table.csv", folder / "table.json", folder / "grid.png"])
    return rows


def _write_outputs(
    folder: Path,
    rows: dict[str, dict[str, Any]],
    settings: dict[str, Any],
    portraits: _Portraits,
    shown: dict[str, torch.Tensor],
) -> None:
    """``table.md``, ``table.csv``, ``table.json`` and ``grid.png`` of ``rows``."""
    _write_tables(folder, rows, settings)
    count = len(next(iter(shown.values())))
    grid = torch.stack([portraits.x[:count], portraits.x_true[:count], *shown.values()], 1)
    zoom = max(1, GRID_CELL // portraits.test.size)  # small portraits drawn larger, pixels kept sharp
    cells = F.interpolate(grid.flatten(0, 1), scale_factor=zoom, mode="nearest")
    save_grid(cells.view(*grid.shape[:3], *cells.shape[2:]), folder / "grid.png")


def _shown(value: Any) -> Any:
    return "-" if value is None else value


def _write_tables(folder: Path, rows: dict[str, dict[str, Any]], settings: dict[str, Any]) -> None:
    header = ["row", "method", *(title for _, title in COLUMNS)]
    cells = [[name, row["method"], *(_shown(row[key]) for key, _ in COLUMNS)] for name, row in rows.items()]
    intro = (
        f"{settings['items']} held-out synthetic portraits ({settings['image_size']} px, {settings['num_artists']} "
        f"artists, seed {settings['seed']}), each redrawn by another artist; scored against the true render. "
        "Grid columns: content, true render, then the rows in order."
    )
    write_text_atomic(folder / "table.md", intro + "\n\n" + markdown_table(header, cells) + "\n")
    text = io.StringIO(newline="")
    writer = csv.writer(text)
    writer.writerow(["row", "method", *(key for key, _ in COLUMNS)])
    writer.writerows([[name, row["method"], *(row[key] for key, _ in COLUMNS)] for name, row in rows.items()])
    write_text_atomic(folder / "table.csv", text.getvalue())
    write_text_atomic(folder / "table.json", json.dumps({"settings": settings, "rows": rows}, indent=1))
