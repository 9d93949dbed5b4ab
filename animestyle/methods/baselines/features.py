"""The frozen feature network of the AdaIN and Gatys baselines: VGG-19 from a local weights
file (the papers'), or on the synthetic portraits the synthetic oracle's trained trunk."""

from __future__ import annotations

from typing import Any

from lightning.pytorch.utilities import rank_zero_info
from torch import nn

from animestyle.metrics.oracle import SyntheticOracle, load_oracle, oracle_path
from animestyle.networks.adain import FeatureTaps, vgg19_taps

__all__ = ["ORACLE", "feature_taps", "load_oracle_trunk"]

ORACLE = "oracle"


def feature_taps(features: str, image_size: int) -> FeatureTaps:
    """``features="oracle"``: the oracle's trunk (untrained until :func:`load_oracle_trunk`),
    read after its first convolution and at 1/2 and 1/4 of the image side; otherwise VGG-19
    from the local weights file ``features``, read at relu1_1 to relu4_1.

    Raises:
        ValueError: naming ``features`` when the file is missing or not VGG-19's weights, or
            the image side does not halve as often as the network reads.
    """
    if features == ORACLE:
        trunk = list(SyntheticOracle(num_artists=2, image_size=image_size).trunk)
        relus = [i for i, layer in enumerate(trunk) if isinstance(layer, nn.ReLU)]
        # one ReLU after the first convolution, then two per halving: the level ends are relus[0], [2], [4]
        taps = [relus[0], relus[2], relus[4]]
        convolutions = [layer for layer in trunk[: taps[-1]] if isinstance(layer, nn.Conv2d)]
        widths = [convolutions[k].out_channels for k in (0, 2, 4)]  # the convolution of each tap's level end
        network = FeatureTaps(trunk, taps, widths)
    else:
        network = vgg19_taps(features)
    halvings = len(network.taps) - 1
    if image_size % 2**halvings:
        raise ValueError(f"image_size={image_size} must be divisible by {2**halvings} for features={features!r}")
    return network


def load_oracle_trunk(module: Any, network: FeatureTaps, owner: str) -> None:
    """With ``features: oracle`` in ``module.hparams``, copy the trained oracle of the data
    ``module`` trains on into ``network`` (the oracle is trained once and cached)."""
    if module.hparams["features"] != ORACLE:
        return
    portraits = getattr(getattr(module.trainer, "datamodule", None), "portraits", None)
    if portraits is None:
        raise ValueError(
            f"{owner} with features: oracle needs the synthetic portraits; on other data give "
            "features: <local file of torchvision's vgg19 weights>"
        )
    where = (portraits.num_artists, portraits.size, portraits.seed, module.hparams["oracle_steps"])
    if not oracle_path(*where).exists():
        rank_zero_info(
            f"{owner}: training the synthetic oracle, its feature network, once (cached at {oracle_path(*where)})"
        )
    oracle = load_oracle(*where[:3], steps=where[3])
    network.trunk.load_state_dict(oracle.trunk[: len(network.trunk)].state_dict())
