"""The networks of the AdaIN baseline (Huang & Belongie, arXiv:1703.06868, Sec. 6): a frozen
feature network read at several layers, and a decoder that mirrors it up to the image.

The paper's feature network is VGG-19 up to relu4_1 (:func:`vgg19_taps`, from a local
weights file: nothing is downloaded); any frozen ``nn.Sequential`` can serve instead, such as
the synthetic oracle's trunk (``animestyle.methods.baselines.adain``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import pairwise
from pathlib import Path

import torch
from torch import nn

__all__ = ["AdaINDecoder", "FeatureTaps", "vgg19_taps"]

# torchvision's vgg19().features: relu1_1, relu2_1, relu3_1, relu4_1 (the paper's layers)
_VGG19_TAPS, _VGG19_WIDTHS = (1, 6, 11, 20), (64, 128, 256, 512)
_IMAGENET_MEAN, _IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


class FeatureTaps(nn.Module):
    """A frozen feature network read at ``taps``; always in eval mode, never trained.

    Args:
        trunk: layers in order; the last tap's output is the content feature.
        taps: indices into ``trunk`` whose outputs are returned (increasing).
        widths: channels of each tap.
        to_input: maps images in [-1, 1] to what ``trunk`` reads (identity if None).

    ``forward(x)``: images (B, 3, S, S) in [-1, 1] -> one (B, widths[i], ., .) tensor per tap.
    """

    def __init__(
        self,
        trunk: Sequence[nn.Module],
        taps: Sequence[int],
        widths: Sequence[int],
        to_input: Callable[[torch.Tensor], torch.Tensor] | None = None,
    ):
        super().__init__()
        if len(taps) != len(widths) or list(taps) != sorted(set(taps)):
            raise ValueError(f"taps must increase and match widths; got taps={list(taps)}, widths={list(widths)}")
        self.trunk = nn.Sequential(*list(trunk)[: taps[-1] + 1])
        self.taps, self.widths, self.to_input = tuple(taps), tuple(widths), to_input
        self.requires_grad_(False)
        self.eval()

    def train(self, mode: bool = True) -> FeatureTaps:
        return super().train(False)  # frozen statistics (BatchNorm) whatever the owner's mode

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        h = self.to_input(x) if self.to_input is not None else x
        out = []
        for i, layer in enumerate(self.trunk):
            h = layer(h)
            if i in self.taps:
                out.append(h)
        return out


def _imagenet_input(x: torch.Tensor) -> torch.Tensor:
    mean = torch.tensor(_IMAGENET_MEAN, device=x.device, dtype=x.dtype).view(1, 3, 1, 1)
    std = torch.tensor(_IMAGENET_STD, device=x.device, dtype=x.dtype).view(1, 3, 1, 1)
    return ((x + 1) / 2 - mean) / std


def vgg19_taps(weights: str | Path | None = None) -> FeatureTaps:
    """VGG-19's convolutions up to relu4_1, read at relu1_1 to relu4_1, as the paper does.

    ``weights``: a local file holding torchvision's ``vgg19`` state dict (the ImageNet
    weights the paper uses; e.g. ``vgg19-dcbb9e9d.pth``); None leaves the layers untrained
    (for tests of shapes only)."""
    from torchvision.models import vgg19

    network = vgg19()
    if weights is not None:
        path = Path(weights)
        if not path.is_file():
            raise ValueError(f"features={str(path)!r} does not exist; give a local file of torchvision's vgg19 weights")
        try:
            network.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
        except Exception as error:
            raise ValueError(f"features={str(path)!r} is not a torchvision vgg19 state dict ({error})") from None
    return FeatureTaps(network.features, _VGG19_TAPS, _VGG19_WIDTHS, _imagenet_input)


def _conv(in_channels: int, out_channels: int) -> nn.Conv2d:
    return nn.Conv2d(in_channels, out_channels, 3, padding=1, padding_mode="reflect")


class AdaINDecoder(nn.Module):
    """The decoder: the feature network mirrored, nearest-neighbour upsampling, reflection
    padding, no normalisation (paper Sec. 6).

    Args:
        widths: channels from the content feature up to full resolution, one per halving
            undone plus the last, e.g. (512, 256, 128, 64) for VGG-19's relu4_1 at 1/8.

    ``forward(t)``: features (B, widths[0], S / 2^k, S / 2^k), k = len(widths) - 1 -> images
    (B, 3, S, S), about [-1, 1].
    """

    def __init__(self, widths: Sequence[int]):
        super().__init__()
        layers: list[nn.Module] = []
        for wide, narrow in pairwise(widths):
            layers += [_conv(wide, narrow), nn.ReLU(), nn.Upsample(scale_factor=2, mode="nearest")]
            layers += [_conv(narrow, narrow), nn.ReLU()]
        layers.append(_conv(widths[-1], 3))
        self.net = nn.Sequential(*layers)

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        return self.net(t)
