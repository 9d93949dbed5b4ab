"""Reusable blocks, one concept per file; used by the networks of more than one paper."""

from animestyle.nn.activation import StandardisedPReLU, TPReLU
from animestyle.nn.adain import adaptive_instance_norm, channel_statistics
from animestyle.nn.bus import BusBlock
from animestyle.nn.ema import EMA
from animestyle.nn.gated_conv import GatedConv2d
from animestyle.nn.gaussian import GaussianHead
from animestyle.nn.haar import haar_merge, haar_split
from animestyle.nn.modes import eval_mode
from animestyle.nn.nested_dropout import NestedDropout
from animestyle.nn.residual import ResidualDown, ResidualSame, ResidualUp, WNResidual, fuse_elementwise
from animestyle.nn.stu import SelectiveTransferUnit
from animestyle.nn.style_bank import StyleBank
from animestyle.nn.tiled_code import append_tiled, tile
from animestyle.nn.warp import Warp

__all__ = [
    "EMA",
    "BusBlock",
    "GatedConv2d",
    "GaussianHead",
    "NestedDropout",
    "ResidualDown",
    "ResidualSame",
    "ResidualUp",
    "SelectiveTransferUnit",
    "StandardisedPReLU",
    "StyleBank",
    "TPReLU",
    "WNResidual",
    "Warp",
    "adaptive_instance_norm",
    "append_tiled",
    "channel_statistics",
    "eval_mode",
    "fuse_elementwise",
    "haar_merge",
    "haar_split",
    "tile",
]
