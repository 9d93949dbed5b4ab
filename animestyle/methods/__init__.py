"""LightningModules: ``base`` (mechanics shared by every method) and one file per paper."""

from animestyle.methods.attribute_classifier import AttributeClassifier
from animestyle.methods.attribute_editor import AttributeEditor
from animestyle.methods.base import AdversarialModule, AnimeStyleModule, CheckpointError, NonFiniteLossError
from animestyle.methods.baselines import AdaIN, GatysNST, StarGAN
from animestyle.methods.gadn import GADNClassifierPretrain, GADNStage1, GADNStage2
from animestyle.methods.nst import DualDiscriminatorNST, EncoderDiscriminatorNST, ReferenceTransferModule
from animestyle.methods.style_space import MetricStyleEncoder, StyleConditionedVAE, StyleContentGAN

__all__ = [
    "AdaIN",
    "AdversarialModule",
    "AnimeStyleModule",
    "AttributeClassifier",
    "AttributeEditor",
    "CheckpointError",
    "DualDiscriminatorNST",
    "EncoderDiscriminatorNST",
    "GADNClassifierPretrain",
    "GADNStage1",
    "GADNStage2",
    "GatysNST",
    "MetricStyleEncoder",
    "NonFiniteLossError",
    "ReferenceTransferModule",
    "StarGAN",
    "StyleConditionedVAE",
    "StyleContentGAN",
]
