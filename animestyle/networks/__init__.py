"""Plain ``nn.Module`` architectures, one file per paper; no losses, no Lightning."""

from animestyle.networks.gadn import Classifier, Encoder, GADNPreset, Generator, Trunk, gadn_preset

__all__ = ["Classifier", "Encoder", "GADNPreset", "Generator", "Trunk", "gadn_preset"]
