"""Output file names shared by the tools that write one picture per input."""

from __future__ import annotations

from pathlib import Path

__all__ = ["distinct_stems", "write_all"]


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
