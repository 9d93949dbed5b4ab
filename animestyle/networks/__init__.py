"""Plain ``nn.Module`` architectures, one file per paper; no losses, no Lightning."""

from animestyle.networks.gadn import Classifier, Encoder, GADNPreset, Generator, Trunk, gadn_preset
from animestyle.networks.nst_encoders import ContentEncoder, SkipDecoder, StyleEncoder
from animestyle.networks.patchgan import PatchDiscriminator
from animestyle.networks.stargan import StarGANDiscriminator, StarGANGenerator
from animestyle.networks.stgan import STGANDiscriminator, STGANGenerator, STGANPreset, stgan_preset
from animestyle.networks.unet import UNetGenerator
from animestyle.networks.wavelet_cnn import WaveletStyleEncoder

__all__ = [
    "Classifier",
    "ContentEncoder",
    "Encoder",
    "GADNPreset",
    "Generator",
    "PatchDiscriminator",
    "STGANDiscriminator",
    "STGANGenerator",
    "STGANPreset",
    "SkipDecoder",
    "StarGANDiscriminator",
    "StarGANGenerator",
    "StyleEncoder",
    "Trunk",
    "UNetGenerator",
    "WaveletStyleEncoder",
    "gadn_preset",
    "stgan_preset",
]
