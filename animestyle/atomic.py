"""Files written whole or not at all: a reader, or a rerun after a killed process, never finds half a file."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["PARTIAL", "atomic_path", "write_text_atomic"]

PARTIAL = ".partial-"
"""Marks the temporary file beside its target: ``<name>.partial-<pid>`` (one per process, so
two processes writing one file never share it; a folder's leftovers are ``*.partial-*``)."""


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A temporary path beside ``path`` to write; when the block ends without an error it
    replaces ``path`` in one step (``os.replace``), else it is deleted and ``path`` is untouched."""
    path = Path(path)
    partial = path.with_name(f"{path.name}{PARTIAL}{os.getpid()}")
    try:
        yield partial
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def write_text_atomic(path: str | Path, text: str) -> Path:
    """Write ``text`` to ``path`` through :func:`atomic_path`; returns ``path``."""
    with atomic_path(path) as partial:
        partial.write_text(text, encoding="utf-8")
    return Path(path)
