"""Lightning callbacks shared by the methods."""

from animestyle.callbacks.samples import SampleGrids

__all__ = ["SampleGrids"]
