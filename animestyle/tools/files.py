"""Output file names shared by the tools that write one picture per input."""

from __future__ import annotations

import re
from pathlib import Path

from PIL import Image

__all__ = ["IMAGE_SUFFIXES", "distinct_stems", "image_files", "opaque", "safe_name", "write_all"]

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif", ".tif", ".tiff")
"""Files of a folder that are taken as images."""


def distinct_stems(paths: list[str], argument: str, output: str) -> list[str]:
    """The file names (without suffix) of ``paths``; ValueError naming ``argument`` when two
    share one, since their outputs (``output``, e.g. ``<stem>_edited.png``) would collide."""
    stems = [Path(p).stem for p in paths]
    repeated = sorted({s for s in stems if stems.count(s) > 1})
    if repeated:
        raise ValueError(f"{argument} {repeated} share a file name: their outputs {output} would collide")
    return stems


def write_all(written: list[Path]) -> list[Path]:
    """Print ``wrote <file>`` for each file written and return them."""
    for file in written:
        print(f"wrote {file}")
    return written


def image_files(paths: list[str], argument: str) -> list[str]:
    """``paths`` with each folder replaced by the image files in it (by :data:`IMAGE_SUFFIXES`,
    sorted by name); ValueError naming ``argument`` when none is given, a path does not
    exist or a folder holds no image. Whether each file is a readable image is checked by
    whoever opens it."""
    if not paths:
        raise ValueError(f"{argument} is empty: give image files or folders, e.g. --{argument} '[a.png, faces/]'")
    files: list[str] = []
    for path in paths:
        if Path(path).is_dir():
            found = sorted(p for p in Path(path).iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
            if not found:
                raise ValueError(f"{argument}: folder {path!r} holds no image ({', '.join(IMAGE_SUFFIXES)})")
            files.extend(str(p) for p in found)
        elif not Path(path).exists():
            raise ValueError(f"cannot read image {path!r}: no such file or folder; check the path in --{argument}")
        else:
            files.append(path)
    return files


def safe_name(name: str) -> str:
    """``name`` fit for a file name: characters other than letters, digits, ``.``, ``-`` and ``_`` become ``_``."""
    return re.sub(r"[^\w.-]", "_", name)


def opaque(image: Image.Image) -> Image.Image:
    """``image`` as RGB when it has no transparent pixel, else as RGBA."""
    rgba = image.convert("RGBA")
    low, _ = rgba.getchannel("A").getextrema()
    return rgba.convert("RGB") if low == 255 else rgba
