"""``AnimeFacesDataModule``: the one LightningDataModule every method trains on."""

from __future__ import annotations

from dataclasses import dataclass

import lightning as L
from torch.utils.data import DataLoader

from animestyle.data.synthetic import SyntheticPortraits
from animestyle.data.synthetic.portrait import check_size

__all__ = ["AnimeFacesDataModule", "SyntheticSource"]


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
    """

    num_artists: int = 32
    seed: int = 0
    train_size: int = 50_000
    val_size: int = 1_000
    label_by: str = "artist"
    jitter: float = 0.04

    def __post_init__(self) -> None:
        for name in ("train_size", "val_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"synthetic.{name}={value!r} must be an integer >= 1")


class AnimeFacesDataModule(L.LightningDataModule):
    """Face crops with artist labels and attributes, batched for every method.

    Batches are dicts: ``x`` (B, 3, H, W) in [-1, 1], ``artist`` (B,) int64 labels,
    ``attrs`` (B, K) float32 in {0, 1}; the synthetic source adds its ground truth
    (``true_artist``, ``content``, ``style``, ``index``).

    ``num_artists``, ``artist_names`` and ``attribute_names`` are set by ``__init__`` so that
    LightningCLI can link them into a model.

    Args:
        synthetic: the built-in synthetic portraits (the default source).
        image_size: image width and height in pixels.
        batch_size: images per batch on each device.
        num_workers: DataLoader worker processes.
    """

    def __init__(
        self,
        synthetic: SyntheticSource | None = None,
        image_size: int = 64,
        batch_size: int = 32,
        num_workers: int = 0,
    ):
        super().__init__()
        image_size = check_size(image_size, "image_size")
        for name, value, minimum in (("batch_size", batch_size, 1), ("num_workers", num_workers, 0)):
            if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
                raise ValueError(f"{name}={value!r} must be an integer >= {minimum}")
        self.save_hyperparameters()
        source = synthetic or SyntheticSource()

        def portraits(split: str, length: int) -> SyntheticPortraits:
            return SyntheticPortraits(
                length=length,
                num_artists=source.num_artists,
                size=image_size,
                seed=source.seed,
                split=split,
                label_by=source.label_by,
                jitter=source.jitter,
            )

        self.train_set = portraits("train", source.train_size)
        self.val_set = portraits("val", source.val_size)
        self.batch_size, self.num_workers = batch_size, num_workers

    @property
    def num_artists(self) -> int:
        """Number of label classes (artists, or the values of the labelled factor)."""
        return self.train_set.num_classes

    @property
    def artist_names(self) -> tuple[str, ...]:
        return self.train_set.class_names

    @property
    def attribute_names(self) -> tuple[str, ...]:
        return self.train_set.attribute_names

    def _loader(self, dataset: SyntheticPortraits, shuffle: bool) -> DataLoader:
        return DataLoader(
            dataset,
            batch_size=self.batch_size,
            shuffle=shuffle,
            drop_last=shuffle and len(dataset) >= self.batch_size,
            num_workers=self.num_workers,
            persistent_workers=self.num_workers > 0,
        )

    def train_dataloader(self) -> DataLoader:
        return self._loader(self.train_set, shuffle=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader(self.val_set, shuffle=False)
