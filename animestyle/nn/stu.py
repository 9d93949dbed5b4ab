"""Selective transfer unit (STU; Liu et al., "STGAN", CVPR 2019; the ANIMEGAN report,
Sec. 4.1.2).

A convolutional GRU on a U-Net skip connection. Instead of copying an encoder feature to the
decoder, it mixes the feature with a state coming up from the deeper level, which has seen the
attribute difference vector, so the skip carries what the edit needs and not the source's
attributes. With ``s`` the deeper state, ``f`` the feature and ``d`` the difference vector:

    s_hat = ConvT4x4s2([s, d])              # up to f's size and width
    r = sigmoid(W_r * [f, s_hat])           # reset gate
    z = sigmoid(W_z * [f, s_hat])           # update gate
    s_out = r * s_hat                       # the state passed on to the next shallower STU
    f_new = tanh(W_h * [f, s_out])
    out = (1 - z) * s_hat + z * f_new       # what the decoder gets

No normalisation, as in STGAN's default.
"""

from __future__ import annotations

import torch
from torch import nn

from animestyle.nn.tiled_code import append_tiled

__all__ = ["SelectiveTransferUnit"]


class SelectiveTransferUnit(nn.Module):
    """Feature (B, C, H, W), state (B, Cs, H/2, W/2) and difference (B, A) -> output and
    state out, (B, C, H, W) each.

    Args:
        channels: ``C``, the width of the skip feature (and of the output and state out).
        state_channels: ``Cs``, the width of the incoming state.
        attr_dim: ``A``, the width of the attribute difference vector.
        kernel_size: of the gate and candidate convolutions; odd, so the size is kept.
    """

    def __init__(self, channels: int, state_channels: int, attr_dim: int, kernel_size: int = 3):
        super().__init__()
        if kernel_size % 2 != 1:
            raise ValueError(f"kernel_size={kernel_size} must be odd so that the gates keep the feature's size")
        self.channels, self.state_channels, self.attr_dim = channels, state_channels, attr_dim
        pad = kernel_size // 2
        self.upsample = nn.ConvTranspose2d(state_channels + attr_dim, channels, 4, 2, 1)
        self.reset = nn.Conv2d(2 * channels, channels, kernel_size, 1, pad)
        self.update = nn.Conv2d(2 * channels, channels, kernel_size, 1, pad)
        self.candidate = nn.Conv2d(2 * channels, channels, kernel_size, 1, pad)

    def _check(self, feature: torch.Tensor, state: torch.Tensor, diff: torch.Tensor) -> None:
        if feature.ndim != 4 or feature.shape[1] != self.channels:
            raise ValueError(f"feature must be (B, {self.channels}, H, W); got {tuple(feature.shape)}")
        b, _, h, w = feature.shape
        if state.shape != (b, self.state_channels, h // 2, w // 2) or h % 2 or w % 2:
            raise ValueError(
                f"state must be (B, {self.state_channels}, H/2, W/2) = {(b, self.state_channels, h // 2, w // 2)} "
                f"for a feature of {tuple(feature.shape)} (H, W even); got {tuple(state.shape)}"
            )
        if diff.shape != (b, self.attr_dim):
            raise ValueError(f"diff must be (B, {self.attr_dim}) = {(b, self.attr_dim)}; got {tuple(diff.shape)}")

    def _state_hat(self, feature: torch.Tensor, state: torch.Tensor, diff: torch.Tensor) -> torch.Tensor:
        self._check(feature, state, diff)
        return self.upsample(append_tiled(state, diff))

    def _gates(self, feature: torch.Tensor, state_hat: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        both = torch.cat([feature, state_hat], 1)
        return torch.sigmoid(self.reset(both)), torch.sigmoid(self.update(both))

    def gates(
        self, feature: torch.Tensor, state: torch.Tensor, diff: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The reset and update gates ``r``, ``z``: (B, C, H, W) each, values in [0, 1]."""
        return self._gates(feature, self._state_hat(feature, state, diff))

    def forward(
        self, feature: torch.Tensor, state: torch.Tensor, diff: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Returns ``(out, s_out)``, (B, C, H, W) each: the decoder's skip feature and the state
        for the next shallower unit."""
        state_hat = self._state_hat(feature, state, diff)
        reset, update = self._gates(feature, state_hat)
        state_out = reset * state_hat
        new = torch.tanh(self.candidate(torch.cat([feature, state_out], 1)))
        return (1 - update) * state_hat + update * new, state_out
