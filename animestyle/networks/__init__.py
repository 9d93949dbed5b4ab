"""Plain ``nn.Module`` architectures, one file per paper; no losses, no Lightning."""

from animestyle.networks.gadn import Classifier, Encoder, GADNPreset, Generator, Trunk, gadn_preset
from animestyle.networks.stgan import STGANDiscriminator, STGANGenerator, STGANPreset, stgan_preset

__all__ = [
    "Classifier",
    "Encoder",
    "GADNPreset",
    "Generator",
    "STGANDiscriminator",
    "STGANGenerator",
    "STGANPreset",
    "Trunk",
    "gadn_preset",
    "stgan_preset",
]
