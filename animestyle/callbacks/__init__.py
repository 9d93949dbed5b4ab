"""Lightning callbacks shared by the methods."""

from animestyle.callbacks.samples import SampleGrids, save_grid

__all__ = ["SampleGrids", "save_grid"]
