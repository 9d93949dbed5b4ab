"""From journal entries to manifest rows: which artists are kept and which crops are held out.

The split is per artist and by illustration (two faces of one picture never straddle it),
and stable: an illustration is in val when the hash of its key falls below ``val_fraction``,
whatever else the artist has, so adding illustrations later never moves an old one out of
val. If that leaves fewer than ``min_val`` crops in val, more illustrations follow in hash
order; at least one illustration always stays in train.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from typing import Any

__all__ = ["manifest_rows"]


def _position(key: str) -> float:
    """A stable number in [0, 1) for ``key``."""
    return int(hashlib.sha1(key.encode()).hexdigest()[:13], 16) / 16**13


def manifest_rows(
    entries: list[dict[str, Any]],
    tags: dict[str, tuple[str, ...]],
    min_images: int,
    val_fraction: float,
    min_val: int,
) -> list[dict[str, Any]]:
    """Rows (dicts of ``MANIFEST_COLUMNS``) for the artists with at least ``min_images``
    crops, ordered by artist, then position (so val rows come first).

    Args:
        entries: journal entries of the illustrations that were read.
        tags: each illustration's current tags, by key (the metadata may have changed since
            the illustration was cropped).
        min_images: fewest crops an artist needs to be kept.
        val_fraction: share of an artist's illustrations held out ...
        min_val: ... topped up to at least this many crops.
    """
    by_artist: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for entry in entries:
        if entry.get("faces"):
            by_artist[entry["artist"]].append(entry)
    rows = []
    for artist in sorted(by_artist):
        illustrations = sorted(by_artist[artist], key=lambda e: _position(e["key"]))
        if sum(len(e["faces"]) for e in illustrations) < min_images:
            continue
        in_val, val_count = set(), 0
        for entry in illustrations[:-1]:  # the last one always trains
            if _position(entry["key"]) < val_fraction or val_count < min_val:
                in_val.add(entry["key"])
                val_count += len(entry["faces"])
            else:
                break
        for entry in illustrations:
            split = "val" if entry["key"] in in_val else "train"
            rows += [_row(entry, face, split, tags.get(entry["key"], ())) for face in entry["faces"]]
    return rows


def _row(entry: dict[str, Any], face: dict[str, Any], split: str, tags: tuple[str, ...]) -> dict[str, Any]:
    x, y, w, h = face["box"]
    (lx, ly), (rx, ry) = face["eye_left"], face["eye_right"]
    return {
        "path": face["path"],
        "artist": entry["artist"],
        "tags": " ".join(tags),
        "split": split,
        "source": entry["source"],
        "face_x": x,
        "face_y": y,
        "face_w": w,
        "face_h": h,
        "eye_left_x": lx,
        "eye_left_y": ly,
        "eye_right_x": rx,
        "eye_right_y": ry,
        "likelihood": face["likelihood"],
        "angle": face["angle"],
    }
