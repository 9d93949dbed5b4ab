import pytest
import torch

from animestyle.networks.patchgan import PatchDiscriminator


@pytest.mark.parametrize(("size", "patches"), [(128, 4), (64, 4), (64, 8), (32, 4)])
def test_patchgan_gives_one_logit_per_patch(size: int, patches: int) -> None:
    d = PatchDiscriminator(size, in_channels=6, patches=patches, width=8)
    out = d(torch.randn(2, 6, size, size))
    assert out.shape == (2, 1, patches, patches)
    out.sum().backward()
    assert all(p.grad is not None for p in d.parameters())


def test_patchgan_refuses_bad_sizes_and_inputs() -> None:
    with pytest.raises(ValueError, match="power of two"):
        PatchDiscriminator(96, patches=4)
    with pytest.raises(ValueError, match="power of two"):
        PatchDiscriminator(4, patches=4)
    with pytest.raises(ValueError, match=r"x must be \(B, 6, 64, 64\)"):
        PatchDiscriminator(64, width=8)(torch.zeros(1, 3, 64, 64))
