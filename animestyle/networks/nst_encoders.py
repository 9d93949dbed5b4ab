"""Encoders and decoder of Deelaka's approach 2 (the "unidirectional GAN").

The generator is three networks: a :class:`ContentEncoder`, a :class:`StyleEncoder` and a
:class:`SkipDecoder`; the two encoders are also the discriminators. The content encoder's
per-level features are the decoder's skip connections, and its L2-normalised global
max-pool the content embedding; the style encoder is a backbone, a dense layer to 32
numbers and an L2 normalisation. The author's backbone was a frozen ImageNet DenseNet121;
here it is our own small CNN trained from scratch by default, or a torchvision network
whose weights are read from a local file (nothing is downloaded).
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from animestyle.nn import append_tiled

__all__ = ["BACKBONES", "ContentEncoder", "SkipDecoder", "StyleEncoder"]

# torchvision networks a style encoder can be built on: name -> the attribute holding its classifier
BACKBONES = {"resnet18": "fc", "resnet50": "fc", "densenet121": "classifier"}
_IMAGENET_MEAN, _IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


def _down(in_channels: int, out_channels: int, normed: bool) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Conv2d(in_channels, out_channels, 4, 2, 1, bias=not normed)]
    layers += [nn.BatchNorm2d(out_channels)] if normed else []
    return nn.Sequential(*layers, nn.LeakyReLU(0.2))


def _check(x: torch.Tensor, channels: int, size: int, name: str = "x") -> None:
    if x.ndim != 4 or tuple(x.shape[1:]) != (channels, size, size):
        raise ValueError(f"{name} must be (B, {channels}, {size}, {size}); got {tuple(x.shape)}")


class ContentEncoder(nn.Module):
    """Images (B, C, S, S) -> (embedding (B, widths[-1]) of unit length, features).

    ``features[k]`` is level ``k``'s output, (B, widths[k], S / 2**(k+1), same); stride-2
    4x4 convolutions, batch norm (not on the first), LeakyReLU 0.2.

    Args:
        image_size: ``S``, a multiple of ``2 ** len(widths)``.
        widths: channels per level (the author's code: 32, 64, 128, 256).
        channels: ``C``.
    """

    def __init__(self, image_size: int, widths: tuple[int, ...] = (32, 64, 128, 256), channels: int = 3):
        super().__init__()
        if image_size % 2 ** len(widths):
            raise ValueError(f"image_size={image_size} must be a multiple of 2**{len(widths)} (one halving per width)")
        self.image_size, self.channels, self.widths = image_size, channels, tuple(widths)
        ins = (channels, *widths[:-1])
        self.levels = nn.ModuleList(_down(i, o, normed=k > 0) for k, (i, o) in enumerate(zip(ins, widths, strict=True)))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        _check(x, self.channels, self.image_size)
        features = []
        for level in self.levels:
            x = level(x)
            features.append(x)
        return F.normalize(x.amax(dim=(2, 3)), dim=1), features


class _ConvBackbone(nn.Module):
    """Our from-scratch backbone: the content encoder's stack with a global average pool."""

    def __init__(self, image_size: int, widths: tuple[int, ...], channels: int):
        super().__init__()
        self.stack = ContentEncoder(image_size, widths, channels)
        self.features = widths[-1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.stack(x)[1][-1].mean(dim=(2, 3))


class _TorchvisionBackbone(nn.Module):
    """A torchvision classification network without its classifier, on ImageNet-normalised input."""

    def __init__(self, name: str, weights: str | None):
        super().__init__()
        import torchvision

        net = getattr(torchvision.models, name)(weights=None)
        head = BACKBONES[name]
        self.features = getattr(net, head).in_features
        if weights is not None:
            _load_local_weights(net, weights, drop=f"{head}.")
        setattr(net, head, nn.Identity())
        self.net = net
        self.mean: torch.Tensor
        self.std: torch.Tensor
        self.register_buffer("mean", torch.tensor(_IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(_IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(((x + 1) / 2 - self.mean) / self.std)


def _load_local_weights(net: nn.Module, path: str, drop: str) -> None:
    """Load a state dict saved from the same torchvision network (its classifier, keys
    starting with ``drop``, is ignored); ValueError naming the file and what is wrong."""
    fix = "give the path of a state_dict saved with torch.save(model.state_dict(), path) from the same network"
    if not Path(path).is_file():
        raise ValueError(f"style backbone weights {path!r} do not exist; {fix}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # truncated or foreign file
        raise ValueError(f"style backbone weights {path!r} are not readable ({error}); {fix}") from None
    state = state.get("state_dict", state) if isinstance(state, dict) else state
    if not isinstance(state, dict):
        raise ValueError(f"style backbone weights {path!r} hold a {type(state).__name__}, not a state_dict; {fix}")
    wanted = {k: v for k, v in net.state_dict().items() if not k.startswith(drop)}
    given = {k: v for k, v in state.items() if not k.startswith(drop)}
    missing, unexpected = sorted(wanted.keys() - given.keys()), sorted(given.keys() - wanted.keys())
    if missing or unexpected:
        raise ValueError(
            f"style backbone weights {path!r} do not fit {type(net).__name__}: missing {missing[:3]}, "
            f"unexpected {unexpected[:3]}; {fix}"
        )
    try:
        net.load_state_dict(given, strict=False)
    except RuntimeError as error:  # same names, other shapes (another variant of the network)
        raise ValueError(f"style backbone weights {path!r} do not fit {type(net).__name__}: {error}; {fix}") from None


class StyleEncoder(nn.Module):
    """Images (B, 3, S, S) -> style embeddings (B, dim) of unit length.

    Args:
        image_size: ``S``.
        backbone: ``"conv"`` (ours, trained from scratch: the content encoder's stack with a
            global average pool) or a torchvision network in :data:`BACKBONES`.
        widths: channels of the ``"conv"`` backbone per level.
        dim: embedding size (the author's code: 32).
        weights: local file of the torchvision backbone's ``state_dict`` (None: random init).
        freeze_backbone: keep the backbone's weights fixed (the author froze DenseNet121);
            only the dense layer then learns.
    """

    def __init__(
        self,
        image_size: int,
        backbone: str = "conv",
        widths: tuple[int, ...] = (32, 64, 128, 256),
        dim: int = 32,
        weights: str | None = None,
        freeze_backbone: bool = False,
    ):
        super().__init__()
        self.image_size = image_size
        if backbone == "conv":
            if weights is not None:
                raise ValueError(
                    "style_weights are for a torchvision backbone; style_backbone='conv' trains from scratch"
                )
            self.backbone: _ConvBackbone | _TorchvisionBackbone = _ConvBackbone(image_size, tuple(widths), 3)
        elif backbone in BACKBONES:
            self.backbone = _TorchvisionBackbone(backbone, weights)
        else:
            raise ValueError(f"style_backbone={backbone!r} is not allowed; choose 'conv' or one of {list(BACKBONES)}")
        if freeze_backbone and backbone == "conv":
            raise ValueError("freeze_style_backbone freezes a pretrained backbone; style_backbone='conv' has none")
        self.backbone.requires_grad_(not freeze_backbone)
        self.frozen = freeze_backbone
        self.head = nn.Linear(self.backbone.features, dim)

    def train(self, mode: bool = True) -> StyleEncoder:
        super().train(mode)
        if self.frozen:  # a frozen backbone keeps its batch-norm statistics too
            self.backbone.eval()
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check(x, 3, self.image_size)
        return F.normalize(self.head(self.backbone(x)), dim=1)


class SkipDecoder(nn.Module):
    """(content features of a :class:`ContentEncoder`, style (B, style_dim)) -> images (B, C, S, S).

    The innermost features, with the style embedding tiled over them, go through transposed
    4x4 convolutions (batch norm, ReLU) that double the size; after each, the content
    encoder's features of that size and the tiled style are concatenated; a last transposed
    convolution and tanh give the image.

    Args:
        widths: the content encoder's widths.
        style_dim: size of the style embedding.
        out_channels: ``C``.
    """

    def __init__(self, widths: tuple[int, ...] = (32, 64, 128, 256), style_dim: int = 32, out_channels: int = 3):
        super().__init__()
        self.widths, self.style_dim = tuple(widths), style_dim
        self.up = nn.ModuleList()
        previous = widths[-1] + style_dim
        for level in range(len(widths) - 1, 0, -1):
            width = widths[level - 1]
            self.up.append(
                nn.Sequential(
                    nn.ConvTranspose2d(previous, width, 4, 2, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU()
                )
            )
            previous = 2 * width + style_dim
        self.out = nn.Sequential(nn.ConvTranspose2d(previous, out_channels, 4, 2, 1), nn.Tanh())

    def forward(self, features: list[torch.Tensor], style: torch.Tensor) -> torch.Tensor:
        if len(features) != len(self.widths) or style.ndim != 2 or style.shape[1] != self.style_dim:
            raise ValueError(
                f"need {len(self.widths)} content feature maps and a (B, {self.style_dim}) style; "
                f"got {len(features)} maps and {tuple(style.shape)}"
            )
        h = append_tiled(features[-1], style)
        for block, skip in zip(self.up, reversed(features[:-1]), strict=True):
            h = append_tiled(torch.cat([block(h), skip], dim=1), style)
        return self.out(h)
