"""The manifest of a prepared training set: one CSV row per face crop.

Columns (``MANIFEST_COLUMNS``): ``path`` of the crop, relative to the manifest's folder;
``artist``; ``tags`` separated by spaces; ``split`` (``train``, ``val`` or ``test``: ``prepare``
writes the first two, ``animestyle test`` reads the third); ``source``
illustration; the face box ``face_x, face_y, face_w, face_h`` and the eye centres
``eye_left_x, eye_left_y, eye_right_x, eye_right_y`` in source pixels; the detector's
``likelihood``; ``angle`` in degrees by which the face was turned upright.

Only ``path``, ``artist`` and ``split`` are required when reading, so a hand-made CSV of
crops works too.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from animestyle.atomic import atomic_path

__all__ = ["MANIFEST_COLUMNS", "SPLITS", "ManifestRow", "read_manifest", "write_manifest"]

MANIFEST_COLUMNS = (
    *("path", "artist", "tags", "split", "source"),
    *("face_x", "face_y", "face_w", "face_h", "eye_left_x", "eye_left_y", "eye_right_x", "eye_right_y"),
    *("likelihood", "angle"),
)
SPLITS = ("train", "val", "test")
_REQUIRED = ("path", "artist", "split")


@dataclass(frozen=True)
class ManifestRow:
    """One crop of a manifest: its absolute ``path``, ``artist``, ``tags`` and ``split``."""

    path: Path
    artist: str
    tags: frozenset[str]
    split: str


def write_manifest(path: Path, rows: list[dict[str, Any]]) -> Path:
    """Write ``rows`` (dicts with the ``MANIFEST_COLUMNS``) as CSV, atomically."""
    with atomic_path(path) as partial, partial.open("w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, fieldnames=MANIFEST_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return path


def read_manifest(path: str | Path, check_files: bool = True) -> list[ManifestRow]:
    """Read a manifest; ValueError naming the file, the row and the fix for a bad row.

    Args:
        path: the manifest CSV.
        check_files: also require every crop file to exist.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"manifest={str(path)!r} does not exist; make one with `animestyle prepare`")
    rows = []
    with path.open(newline="", encoding="utf-8") as file:
        reader = csv.DictReader(file)
        missing = [c for c in _REQUIRED if c not in (reader.fieldnames or ())]
        if missing:
            raise ValueError(f"{path}: the header lacks {missing}; a manifest needs at least {list(_REQUIRED)}")
        for number, row in enumerate(reader, start=2):
            where = f"{path}, row {number}"
            split, artist = (row["split"] or "").strip(), (row["artist"] or "").strip()
            if split not in SPLITS:
                raise ValueError(f"{where}: split={split!r} is not one of {list(SPLITS)}; fix the row")
            if not artist:
                raise ValueError(f"{where}: the artist is empty; fix or remove the row")
            crop = path.parent / (row["path"] or "").strip()
            if check_files and not crop.is_file():
                raise ValueError(f"{where}: the crop {str(crop)!r} does not exist; rerun prepare or remove the row")
            rows.append(ManifestRow(crop, artist, frozenset((row.get("tags") or "").split()), split))
    if not rows:
        raise ValueError(f"{path} lists no crops")
    return rows
