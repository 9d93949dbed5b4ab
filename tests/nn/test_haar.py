import pytest
import torch

from animestyle.nn import haar_merge, haar_split


def test_haar_reconstructs_perfectly_and_keeps_energy() -> None:
    x = torch.randn(2, 3, 8, 6, dtype=torch.float64)
    bands = haar_split(x)
    assert all(b.shape == (2, 3, 4, 3) for b in bands)
    torch.testing.assert_close(haar_merge(*bands), x, rtol=0, atol=1e-12)
    energy = sum(b.square().sum() for b in bands)
    torch.testing.assert_close(energy, x.square().sum())  # orthonormal


def test_haar_bands_on_a_known_block() -> None:
    x = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])  # a = 1, b = 2, c = 3, d = 4
    ll, lh, hl, hh = (band.item() for band in haar_split(x))
    assert (ll, lh, hl, hh) == (5.0, -2.0, -1.0, 0.0)
    flat = torch.full((1, 1, 4, 4), 0.5)
    _, *details = haar_split(flat)
    assert all(torch.equal(d, torch.zeros(1, 1, 2, 2)) for d in details)  # no edges, no detail


def test_haar_gradients_flow_and_bad_shapes_raise() -> None:
    x = torch.randn(1, 1, 4, 4, requires_grad=True)
    haar_split(x)[3].sum().backward()
    assert x.grad is not None
    assert x.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="even H and W"):
        haar_split(torch.zeros(1, 1, 3, 4))
    with pytest.raises(ValueError, match="one shape"):
        haar_merge(torch.zeros(1, 1, 2, 2), torch.zeros(1, 1, 2, 2), torch.zeros(1, 1, 2, 2), torch.zeros(1, 1, 2, 3))
