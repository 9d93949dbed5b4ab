"""The baselines the papers compare against, behind the same interface as the methods."""

from animestyle.methods.baselines.adain import AdaIN

__all__ = ["AdaIN"]
