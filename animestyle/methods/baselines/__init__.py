"""The baselines the papers compare against, behind the same interface as the methods."""

from animestyle.methods.baselines.adain import AdaIN
from animestyle.methods.baselines.gatys import GatysNST
from animestyle.methods.baselines.stargan import StarGAN

__all__ = ["AdaIN", "GatysNST", "StarGAN"]
