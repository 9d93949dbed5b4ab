import torch

from animestyle.data.colour import lab_to_rgb, rgb_to_lab


def test_rgb_lab_rgb_round_trip() -> None:
    torch.manual_seed(0)
    rgb = torch.rand(8, 3, 16, 16) * 2 - 1
    assert (lab_to_rgb(rgb_to_lab(rgb)) - rgb).abs().max() < 1e-3


def test_lab_is_scaled_to_about_unit_range() -> None:
    corners = torch.tensor([[r, g, b] for r in (-1.0, 1.0) for g in (-1.0, 1.0) for b in (-1.0, 1.0)])
    lab = rgb_to_lab(corners.reshape(8, 3, 1, 1))
    assert lab.min() >= -1
    assert lab.max() <= 1
    assert lab[0, 0].item() == -1  # black: L = 0
    assert abs(lab[-1, 0].item() - 1) < 1e-3  # white: L = 100


def test_gradients_flow_through_the_conversion() -> None:
    rgb = (torch.rand(2, 3, 4, 4) * 2 - 1).requires_grad_()
    rgb_to_lab(rgb).sum().backward()
    assert rgb.grad is not None
    assert torch.isfinite(rgb.grad).all()
