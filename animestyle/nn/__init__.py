"""Reusable blocks, one concept per file; used by the networks of more than one paper."""

from animestyle.nn.activation import StandardisedPReLU, TPReLU
from animestyle.nn.ema import EMA
from animestyle.nn.gaussian import GaussianHead
from animestyle.nn.nested_dropout import NestedDropout
from animestyle.nn.residual import ResidualDown, ResidualUp, WNResidual
from animestyle.nn.style_bank import StyleBank

__all__ = [
    "EMA",
    "GaussianHead",
    "NestedDropout",
    "ResidualDown",
    "ResidualUp",
    "StandardisedPReLU",
    "StyleBank",
    "TPReLU",
    "WNResidual",
]
