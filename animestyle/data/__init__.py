"""Data: the built-in synthetic portraits, ``prepare`` and the DataModule every method trains on.

The exports load on first use, so that ``animestyle.data.prepare`` (and its worker processes)
starts without importing torch and Lightning.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from animestyle.data.datamodule import AnimeFacesDataModule, SyntheticSource
    from animestyle.data.synthetic import SyntheticPortraits

__all__ = ["AnimeFacesDataModule", "SyntheticPortraits", "SyntheticSource"]

_HOMES = {
    "AnimeFacesDataModule": "animestyle.data.datamodule",
    "SyntheticSource": "animestyle.data.datamodule",
    "SyntheticPortraits": "animestyle.data.synthetic",
}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(importlib.import_module(_HOMES[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
