"""The baselines the papers compare against, behind the same interface as the methods."""

from animestyle.methods.baselines.adain import AdaIN
from animestyle.methods.baselines.gatys import GatysNST

__all__ = ["AdaIN", "GatysNST"]
