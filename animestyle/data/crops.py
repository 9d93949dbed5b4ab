"""Datasets of face crops on disk: the rows of a manifest, or a folder per artist."""

from __future__ import annotations

import hashlib
import math
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset

from animestyle.data.manifest import ManifestRow
from animestyle.data.prepare.sources import IMAGE_SUFFIXES

__all__ = ["CropDataset", "folder_rows", "held_out"]


def held_out(count: int, fraction: float, minimum: int) -> int:
    """How many of an artist's ``count`` crops go to val: max(ceil(fraction * count),
    minimum), always leaving at least one for training."""
    return max(0, min(max(math.ceil(fraction * count), minimum), count - 1))


def folder_rows(root: str | Path, val_fraction: float = 0.1, min_val: int = 5) -> list[ManifestRow]:
    """Rows for ``root/<artist>/<image>``: each artist's images ordered by a hash of their
    name, the first :func:`held_out` of them in val. No tags."""
    root = Path(root)
    if not root.is_dir():
        raise ValueError(f"folder={str(root)!r} is not a folder (it should hold one folder of crops per artist)")
    by_artist: dict[str, list[Path]] = defaultdict(list)
    for path in sorted(root.glob("*/*")):
        if path.suffix.lower() in IMAGE_SUFFIXES and path.is_file():
            by_artist[path.parent.name].append(path)
    if not by_artist:
        raise ValueError(f"folder={str(root)!r} holds no images in artist folders (<folder>/<artist>/<image>.png)")
    rows = []
    for artist, paths in sorted(by_artist.items()):
        paths.sort(key=lambda p: hashlib.sha1(p.name.encode()).hexdigest())
        n_val = held_out(len(paths), val_fraction, min_val)
        rows += [ManifestRow(p, artist, frozenset(), "val" if k < n_val else "train") for k, p in enumerate(paths)]
    return rows


class CropDataset(Dataset[dict[str, torch.Tensor]]):
    """Crops listed by ``rows``, read as RGBA and resized to ``size``.

    Items: ``x`` (4, size, size) uint8, straight (not premultiplied) RGBA as stored; the
    DataModule turns it into floats on the device, which keeps DataLoader workers and the
    transfer between processes light. ``artist`` () int64 index into ``artists``; ``attrs``
    (len(attributes),) float32 in {0, 1}, whether the crop has each tag; ``index`` () int64.
    """

    def __init__(self, rows: list[ManifestRow], artists: tuple[str, ...], attributes: tuple[str, ...], size: int):
        ids = {name: k for k, name in enumerate(artists)}
        self.paths = [row.path for row in rows]
        self.labels = [ids[row.artist] for row in rows]
        self.attrs = np.array([[tag in row.tags for tag in attributes] for row in rows], dtype=np.float32)
        self.attrs = self.attrs.reshape(len(rows), len(attributes))
        self.size = size

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        with Image.open(self.paths[i]) as opened:
            image = opened.convert("RGBA")
        if image.size != (self.size, self.size):  # area average of premultiplied colour: clean edges
            image = image.convert("RGBa").resize((self.size, self.size), Image.Resampling.BOX).convert("RGBA")
        return {
            "x": torch.from_numpy(np.asarray(image).copy()).permute(2, 0, 1),
            "artist": torch.tensor(self.labels[i]),
            "attrs": torch.from_numpy(self.attrs[i]),
            "index": torch.tensor(i),
        }
