"""Data: the built-in synthetic portraits, ``prepare`` and the DataModule every method trains on.

The exports load on first use, so that ``animestyle.data.prepare`` (and its worker processes)
starts without importing torch and Lightning.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from animestyle.lazy import lazy_exports

if TYPE_CHECKING:
    from animestyle.data.datamodule import AnimeFacesDataModule, SyntheticSource
    from animestyle.data.synthetic import SyntheticPortraits

__all__ = ["AnimeFacesDataModule", "SyntheticPortraits", "SyntheticSource"]

_HOMES = {
    "AnimeFacesDataModule": "animestyle.data.datamodule",
    "SyntheticSource": "animestyle.data.datamodule",
    "SyntheticPortraits": "animestyle.data.synthetic",
}

__getattr__ = lazy_exports(__name__, _HOMES)
