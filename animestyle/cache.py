"""Where animestyle keeps what it builds on first use (e.g. the synthetic oracle)."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["cache_dir"]


def cache_dir() -> Path:
    """The cache folder: ``$ANIMESTYLE_CACHE`` if set, else ``$XDG_CACHE_HOME/animestyle``,
    else ``~/.cache/animestyle``. It is created on first use; deleting it is always safe."""
    if os.environ.get("ANIMESTYLE_CACHE"):  # set and not empty
        return Path(os.environ["ANIMESTYLE_CACHE"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "animestyle"
