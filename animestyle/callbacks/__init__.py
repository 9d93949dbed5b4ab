"""Lightning callbacks shared by the methods."""

from animestyle.callbacks.samples import SampleGrids
from animestyle.callbacks.transfer_scores import SyntheticTransferScores

__all__ = ["SampleGrids", "SyntheticTransferScores"]
