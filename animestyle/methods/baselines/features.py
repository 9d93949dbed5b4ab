"""The frozen feature network of the AdaIN and Gatys baselines: VGG-19 from a local weights
file (the papers'), or on the synthetic portraits the synthetic oracle's trained trunk; and
:class:`FeatureBaseline`, what the two modules share around it."""

from __future__ import annotations

from typing import Any

import torch
from lightning.pytorch.utilities import rank_zero_info
from torch import nn

from animestyle.methods.base import AnimeStyleModule
from animestyle.metrics.oracle import SyntheticOracle, load_oracle, oracle_path
from animestyle.networks.adain import FeatureTaps, vgg19_taps

__all__ = ["ORACLE", "FeatureBaseline", "feature_taps", "load_oracle_trunk"]

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


class FeatureBaseline(AnimeStyleModule):
    """Base of the baselines built on a frozen feature network (AdaIN, Gatys): colour images
    only, the network from ``features``, the trained oracle copied in when a fit starts, and
    transfers like a style image (training and scoring on content and style pairs).

    Args:
        name: the baseline's name in messages.
        num_artists, image_size, channels, features: the subclass's arguments of those names.
    """

    def __init__(self, name: str, num_artists: int | None, image_size: int, channels: str, features: str) -> None:
        super().__init__()
        if channels != "rgb":
            raise ValueError(f"channels={channels!r}: {name} reads colour only; set data.channels: rgb")
        self.name = name
        self.num_artists, self.image_size = num_artists, image_size
        self.features = feature_taps(features, image_size)

    def record(self) -> dict[str, Any]:
        return {"image_size": self.image_size, "channels": "rgb", "num_artists": self.num_artists}

    def load_inputs(self) -> None:
        """With ``features: oracle``, copy in the trained oracle of the synthetic data."""
        load_oracle_trunk(self, self.features, self.name)

    def on_fit_start(self) -> None:
        self.load_inputs()  # a resumed run loads the same frozen network its checkpoint holds

    def pairs(self, batch: dict[str, torch.Tensor], doing: str) -> tuple[torch.Tensor, torch.Tensor]:
        """``(x, style_x)`` of a batch of content and style pairs; ``doing``: "trains" or "is scored"."""
        if "style_x" not in batch:
            raise ValueError(f"{self.name} {doing} on content and style pairs; set data.style_pairs: true")
        return batch["x"], batch["style_x"]

    @staticmethod
    def one_per_image(x: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
        """``reference`` (B or 1, 3, S', S') with one style image per image of ``x`` (B, ...)."""
        return reference.expand(len(x), -1, -1, -1) if len(reference) == 1 and len(x) > 1 else reference
