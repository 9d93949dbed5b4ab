"""``AnimeFacesDataModule``: the one LightningDataModule every method trains on."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any, Literal

import lightning as L
import torch
from torch.utils.data import DataLoader, Dataset, RandomSampler, Sampler, WeightedRandomSampler

from animestyle.checks import check_channels, check_choice, check_count
from animestyle.data.augment import Albumentations, build_albumentations, reseed_worker
from animestyle.data.colour import lab_to_rgb, rgb_to_lab
from animestyle.data.crops import CropDataset, folder_rows
from animestyle.data.manifest import ManifestRow, read_manifest
from animestyle.data.pairs import PairSampler, StylePairs
from animestyle.data.synthetic import ATTRIBUTE_NAMES, SyntheticPortraits
from animestyle.data.synthetic.portrait import check_size

__all__ = ["AnimeFacesDataModule", "MissingSplitError", "SyntheticSource"]


class MissingSplitError(ValueError):
    """The data source has no images for the split a command reads (a manifest without
    ``test`` rows for ``animestyle test``); the message says how to add them."""


@dataclass
class SyntheticSource:
    """The built-in synthetic portraits as a data source (see ``SyntheticPortraits``).

    Attributes:
        num_artists: number of artists.
        seed: selects the artists and the images.
        train_size: images per training epoch (all distinct).
        val_size: held-out images, drawn by the same artists.
        label_by: ``"artist"`` or a categorical content factor (e.g. ``"hair_colour"``).
        jitter: per-image style jitter as a fraction of each style factor's range.
        test_size: images of the test split (``animestyle test``), a stream of their own,
            disjoint from the training and validation images; None: as many as ``val_size``.
    """

    num_artists: int = 32
    seed: int = 0
    train_size: int = 50_000
    val_size: int = 1_000
    label_by: str = "artist"
    jitter: float = 0.04
    test_size: int | None = None

    def __post_init__(self) -> None:
        for name in ("train_size", "val_size"):
            check_count(f"synthetic.{name}", getattr(self, name), 1)
        if self.test_size is not None:
            check_count("synthetic.test_size", self.test_size, 1)


# Checkpoints hold the DataModule's arguments; torch.load(weights_only=True), Lightning's
# default for Trainer.fit(ckpt_path=...), refuses any class not listed here.
torch.serialization.add_safe_globals([SyntheticSource])


class _Adapted(Dataset[dict[str, torch.Tensor]]):
    """Synthetic items in the layout of the DataModule's datasets: ``x`` (4, H, W) uint8 RGBA
    (opaque), and the chosen attribute columns."""

    def __init__(self, dataset: SyntheticPortraits, attributes: list[int]):
        self.dataset, self.attributes = dataset, attributes

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        item = self.dataset[i]
        rgb = ((item["x"] + 1) * 127.5).round().to(torch.uint8)  # exactly the rendered bytes
        item["x"] = torch.cat([rgb, torch.full_like(rgb[:1], 255)])
        item["attrs"] = item["attrs"][self.attributes]
        return item


class AnimeFacesDataModule(L.LightningDataModule):
    """Face crops with artist labels and attributes, batched for every method.

    One source: a ``manifest`` made by ``animestyle prepare``, a ``folder`` with one folder of
    crops per artist, or the built-in ``synthetic`` portraits (the default).

    Batches, as a LightningModule receives them: ``x`` (B, 3, H, W) float32 in [-1, 1] (colour
    zeroed where a crop is transparent), or (B, 4, H, W) with ``channels="rgba"``, the 4th
    channel alpha in [0, 1]; ``artist`` (B,) int64 label; ``attrs`` (B, K) float32 in {0, 1},
    one column per name in ``attribute_names``; ``index`` (B,). The synthetic source adds its
    ground truth (``true_artist``, ``content``, ``style``). With ``style_pairs`` each item also
    has a style reference (:class:`~animestyle.data.pairs.StylePairs`): ``style_x`` and
    ``style_pos_x``, two images by ``style_artist``, in the layout of ``x``. With ``colour_space="lab"`` the
    colour channels are scaled Lab; :meth:`to_display` turns them back into RGB.

    The DataLoaders themselves deliver ``x`` as (B, 4, H, W) uint8 RGBA, a quarter of the bytes
    to decode, copy and move; :meth:`on_after_batch_transfer` makes the floats on the device.
    Lightning calls it in every loop; call it yourself when iterating the loaders by hand.

    ``num_artists``, ``artist_names`` and ``attribute_names`` are set by ``__init__`` so that
    LightningCLI can link them into a model.

    Args:
        manifest: a ``manifest.csv`` written by ``animestyle prepare`` (train/val, and test
            where rows say so, from its ``split`` column).
        folder: a folder of ``<artist>/<crop>.png``; each artist's val share is chosen by
            ``val_fraction`` and ``min_val`` (no test split).
        synthetic: the built-in synthetic portraits (train, val and test splits).
        image_size: side of the images in pixels (crops are resized on loading).
        channels: ``"rgb"``, or ``"rgba"`` for alpha as a 4th channel (GADN's alpha-weighted
            losses).
        colour_space: ``"rgb"`` or ``"lab"``.
        attributes: tag names that become ``attrs`` columns (default: none for crops, every
            synthetic attribute for the synthetic source).
        balanced: sample training images so that every artist is drawn equally often.
        augment: albumentations steps for training images, e.g.
            ``[{"name": "HorizontalFlip", "p": 0.5}]``.
        style_pairs: add a style reference to every item (reference-guided transfer:
            :class:`~animestyle.methods.DualDiscriminatorNST`,
            :class:`~animestyle.methods.EncoderDiscriminatorNST`); validation (and test) pairs
            are fixed, training pairs new every epoch (:class:`~animestyle.data.pairs.PairSampler`).
        batch_size: images per batch on each device.
        num_workers: DataLoader worker processes.
        val_fraction: folder source: share of each artist's crops held out ...
        min_val: ... but at least this many.
    """

    def __init__(
        self,
        manifest: str | None = None,
        folder: str | None = None,
        synthetic: SyntheticSource | None = None,
        image_size: int = 64,
        channels: Literal["rgb", "rgba"] = "rgb",
        colour_space: Literal["rgb", "lab"] = "rgb",
        attributes: list[str] | None = None,
        balanced: bool = False,
        augment: list[dict[str, Any]] | None = None,
        style_pairs: bool = False,
        batch_size: int = 32,
        num_workers: int = 0,
        val_fraction: float = 0.1,
        min_val: int = 5,
    ):
        super().__init__()
        image_size = check_size(image_size, "image_size")
        check_count("batch_size", batch_size, 1)
        check_count("num_workers", num_workers, 0)
        check_channels(channels)
        check_choice("colour_space", colour_space, ("rgb", "lab"))
        given = [
            name for name, value in (("manifest", manifest), ("folder", folder), ("synthetic", synthetic)) if value
        ]
        if len(given) > 1:
            raise ValueError(f"give one data source, not {' and '.join(given)}")
        self.save_hyperparameters()
        self.batch_size, self.num_workers, self.balanced = batch_size, num_workers, balanced
        self.colour_space = colour_space
        self.rgba = channels == "rgba"
        self.train_set: Dataset[dict[str, torch.Tensor]]
        self.val_set: Dataset[dict[str, torch.Tensor]]
        self.test_set: Dataset[dict[str, torch.Tensor]] | None = None  # None: see _no_test
        rows: list[ManifestRow] | None = None
        self.portraits: SyntheticPortraits | None = None  # the synthetic training set, if that is the source
        self._portraits: dict[str, SyntheticPortraits] | None = None  # train, val and test
        self._no_test = ""  # why there is no test split, when there is none
        if manifest or folder:
            rows = read_manifest(manifest) if manifest else folder_rows(folder or "", val_fraction, min_val)
            self._artist_names = tuple(sorted({row.artist for row in rows}))
            self._attribute_names = tuple(attributes or ())
            self.train_set, self.val_set = (
                CropDataset(
                    [r for r in rows if r.split == split], self._artist_names, self._attribute_names, image_size
                )
                for split in ("train", "val")
            )
            test_rows = [r for r in rows if r.split == "test"]
            if test_rows:
                self.test_set = CropDataset(test_rows, self._artist_names, self._attribute_names, image_size)
            elif manifest:
                self._no_test = (
                    f"manifest={manifest!r} has no rows with split 'test' (prepare writes train and val "
                    "only); mark the crops to test on with split test, or score the val split with "
                    "`animestyle validate`"
                )
            else:
                self._no_test = (
                    "data.folder has no test split (its crops are split into train and val); give a manifest "
                    "with rows of split 'test', or score the val split with `animestyle validate`"
                )
        else:
            self._synthetic(synthetic or SyntheticSource(), image_size, attributes)
        self._rows = rows
        if augment:
            self.train_set = Albumentations(self.train_set, build_albumentations(augment))
        self.style_pairs = style_pairs
        if style_pairs:
            self.train_set = StylePairs(self.train_set, self.labels("train"))
            self.val_set = StylePairs(self.val_set, self.labels("val"), seed=0)
            if self.test_set is not None:
                self.test_set = StylePairs(self.test_set, self.labels("test"), seed=0)

    def _synthetic(self, source: SyntheticSource, size: int, attributes: list[str] | None) -> None:
        chosen = list(ATTRIBUTE_NAMES if attributes is None else attributes)
        unknown = [name for name in chosen if name not in ATTRIBUTE_NAMES]
        if unknown:
            raise ValueError(f"attributes {unknown} are not synthetic attributes; choose from {list(ATTRIBUTE_NAMES)}")
        columns = [ATTRIBUTE_NAMES.index(name) for name in chosen]
        sets = {}
        test_size = source.test_size or source.val_size
        for split, length in (("train", source.train_size), ("val", source.val_size), ("test", test_size)):
            portraits = SyntheticPortraits(
                length=length,
                num_artists=source.num_artists,
                size=size,
                seed=source.seed,
                split=split,
                label_by=source.label_by,
                jitter=source.jitter,
            )
            sets[split] = portraits
        self.portraits = sets["train"]
        self._portraits = sets
        self._artist_names, self._attribute_names = sets["train"].class_names, tuple(chosen)
        self.train_set, self.val_set, self.test_set = (_Adapted(sets[s], columns) for s in ("train", "val", "test"))

    @property
    def num_artists(self) -> int:
        """Number of label classes (artists, or the values of a synthetic labelled factor)."""
        return len(self._artist_names)

    @property
    def artist_names(self) -> tuple[str, ...]:
        """Name of each label class; ``artist`` holds indices into it."""
        return self._artist_names

    @property
    def attribute_names(self) -> tuple[str, ...]:
        """Name of each ``attrs`` column."""
        return self._attribute_names

    @property
    def train_labels(self) -> list[int]:
        """The label (index into ``artist_names``) of every training image, in order."""
        return self.labels("train")

    def synthetic_split(self, split: str) -> SyntheticPortraits | None:
        """The synthetic portraits of ``split`` (train, val, test), with their ground truth;
        None for crops."""
        return None if self._portraits is None else self._portraits[split]

    def labels(self, split: str) -> list[int]:
        """The label (index into ``artist_names``) of every image of ``split`` (train, val, test), in order."""
        if self._rows is not None:
            ids = {name: k for k, name in enumerate(self._artist_names)}
            return [ids[r.artist] for r in self._rows if r.split == split]
        assert self._portraits is not None
        portraits = self._portraits[split]
        label = portraits.artist if portraits.label_by == "artist" else portraits.label  # the first is ~100x faster
        return [label(i) for i in range(len(portraits))]

    def train_dataloader(self) -> DataLoader:
        sampler: Sampler | None = None
        if self.balanced:
            labels = self.train_labels
            counts = Counter(labels)
            weights = [1.0 / counts[label] for label in labels]
            sampler = WeightedRandomSampler(weights, num_samples=len(labels), replacement=True)
        if self.style_pairs:  # the pairs drawn in this process: resumed runs draw the same ones
            sampler = PairSampler(sampler or RandomSampler(self.train_set))  # type: ignore[arg-type]
        return self._loader(self.train_set, shuffle=sampler is None, sampler=sampler)

    def val_dataloader(self) -> DataLoader:
        return self._loader(self.val_set, shuffle=False)

    def test_dataloader(self) -> DataLoader:
        """The test split: the synthetic source's own held-out stream, a manifest's ``test`` rows.

        Raises:
            MissingSplitError: the source has no test split, saying how to make one.
        """
        if self.test_set is None:
            raise MissingSplitError(self._no_test)
        return self._loader(self.test_set, shuffle=False)

    def _loader(self, dataset: Dataset, shuffle: bool, sampler: Sampler | None = None) -> DataLoader:
        training = shuffle or sampler is not None
        return DataLoader(
            dataset,
            batch_size=self.batch_size,
            shuffle=shuffle,
            sampler=sampler,
            drop_last=training and len(dataset) >= self.batch_size,  # type: ignore[arg-type]
            num_workers=self.num_workers,
            persistent_workers=self.num_workers > 0,
            worker_init_fn=reseed_worker,
            pin_memory=torch.cuda.is_available(),
        )

    def on_after_batch_transfer(self, batch: dict[str, torch.Tensor], dataloader_idx: int) -> dict[str, torch.Tensor]:
        """On the device: uint8 RGBA ``x`` (and style references) -> floats (colour in
        [-1, 1], zeroed where transparent; alpha in [0, 1] kept for ``channels="rgba"``),
        then Lab if asked."""
        batch = dict(batch)
        for key in ("x", "style_x", "style_pos_x"):
            if key in batch:
                batch[key] = self._pixels(batch[key])
        return batch

    def _pixels(self, rgba: torch.Tensor) -> torch.Tensor:
        pixels = rgba.float()
        alpha = pixels[:, 3:] / 255
        colour = pixels[:, :3] / 127.5 - 1
        if self.colour_space == "lab":
            colour = rgb_to_lab(colour)
        colour = colour * alpha  # zero (mid grey in RGB, in Lab) where transparent
        return torch.cat([colour, alpha], dim=1) if self.rgba else colour

    def to_display(self, x: torch.Tensor) -> torch.Tensor:
        """Batch images (B, C, H, W) in this module's colour space -> RGB (B, 3, H, W) in
        [-1, 1], for pictures and metrics."""
        return lab_to_rgb(x[:, :3]) if self.colour_space == "lab" else x[:, :3]
