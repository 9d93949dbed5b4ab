"""Data: the built-in synthetic portraits and the DataModule every method trains on."""

from animestyle.data.datamodule import AnimeFacesDataModule, SyntheticSource
from animestyle.data.synthetic import SyntheticPortraits

__all__ = ["AnimeFacesDataModule", "SyntheticPortraits", "SyntheticSource"]
