"""STGAN's networks: presets, shapes at 32 / 64 / 128 px with small widths, the wiring of the
skips and the difference vector, ablations, gradients and input checks."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from animestyle.networks.stgan import STGANDiscriminator, STGANGenerator, stgan_levels, stgan_preset
from animestyle.nn import GatedConv2d, SelectiveTransferUnit

ATTRS = 3


def seeded(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def images(batch: int, size: int, seed: int = 0) -> torch.Tensor:
    return torch.rand(batch, 3, size, size, generator=seeded(seed)) * 2 - 1


def diffs(batch: int, seed: int = 0) -> torch.Tensor:
    return torch.randint(-1, 2, (batch, ATTRS), generator=seeded(seed)).float()


def small_widths(size: int) -> list[int]:
    """4, 8, 16, ... : one per level down to 4x4."""
    return [4 * 2**i for i in range(stgan_levels(size))]


def assert_every_parameter_learns(module: nn.Module) -> None:
    for name, p in module.named_parameters():
        assert p.grad is not None, name
        assert p.grad.abs().sum() > 0, name


# --- presets -------------------------------------------------------------------------------


def test_preset_at_128_px_is_stgans() -> None:
    p = stgan_preset(128)
    assert p.widths == (64, 128, 256, 512, 1024)
    assert p.discriminator_widths == p.widths
    assert p.stu_levels == 4
    assert p.fc_width == 1024


def test_presets_reach_4x4_and_cap_the_width() -> None:
    assert stgan_preset(16).widths == (64, 128)
    assert stgan_preset(16).stu_levels == 1
    assert stgan_preset(64).widths == (64, 128, 256, 512)
    assert stgan_preset(64).stu_levels == 3
    assert stgan_preset(256).widths == (64, 128, 256, 512, 1024, 1024)
    assert stgan_preset(256).stu_levels == 4


@pytest.mark.parametrize("size", [0, 8, 24, 48, 100, 129])
def test_presets_refuse_sizes_that_are_not_powers_of_two_from_16(size: int) -> None:
    with pytest.raises(ValueError, match=f"image_size={size} must be a power of two"):
        stgan_preset(size)


def test_networks_refuse_bad_sizes_and_widths() -> None:
    with pytest.raises(ValueError, match="power of two"):
        STGANGenerator(48, ATTRS)
    with pytest.raises(ValueError, match="power of two"):
        STGANDiscriminator(12, ATTRS)
    with pytest.raises(ValueError, match="needs 3 to reach 4x4"):
        STGANGenerator(32, ATTRS, widths=[4, 8])
    with pytest.raises(ValueError, match="needs 4 to reach 4x4"):
        STGANDiscriminator(64, ATTRS, widths=[4, 8, 16])
    with pytest.raises(ValueError, match="stu_levels=3"):
        STGANGenerator(32, ATTRS, widths=[4, 8, 16], stu_levels=3)
    with pytest.raises(ValueError, match="inject_levels=-1"):
        STGANGenerator(32, ATTRS, widths=[4, 8, 16], inject_levels=-1)


# --- generator -----------------------------------------------------------------------------


@pytest.mark.parametrize("size", [32, 64, 128])
def test_generator_shapes_and_range(size: int) -> None:
    g = STGANGenerator(size, ATTRS, widths=small_widths(size))
    features = g.encode(images(2, size))
    assert [tuple(f.shape) for f in features] == [
        (2, w, size // 2 ** (i + 1), size // 2 ** (i + 1)) for i, w in enumerate(small_widths(size))
    ]
    y = g(images(2, size), diffs(2))
    assert y.shape == (2, 3, size, size)
    assert torch.isfinite(y).all()
    assert y.min() >= -1
    assert y.max() <= 1


def test_generator_default_structure_at_128_px() -> None:
    g = STGANGenerator(128, ATTRS)
    assert g.stu_levels == g.inject_levels == 4
    assert all(isinstance(level, GatedConv2d) for level in g.encoder)
    assert [(stu.channels, stu.state_channels) for stu in g.stus] == [(512, 1024), (256, 512), (128, 256), (64, 128)]
    transposed = [m for m in g.decoder.modules() if isinstance(m, nn.ConvTranspose2d)]
    assert [m.out_channels for m in transposed] == [1024, 512, 256, 128, 3]
    # input: deepest + diff; then decoder output + skip + diff at every layer (inject 4 of 4)
    assert [m.in_channels for m in transposed] == [1024 + 3, 1024 + 512 + 3, 512 + 256 + 3, 256 + 128 + 3, 128 + 64 + 3]


def test_generator_output_depends_on_the_difference_vector() -> None:
    torch.manual_seed(0)
    g = STGANGenerator(32, ATTRS, widths=small_widths(32)).eval()
    x = images(2, 32)
    base = g(x, torch.zeros(2, ATTRS))
    for k in range(ATTRS):
        diff = torch.zeros(2, ATTRS)
        diff[:, k] = 1
        assert not torch.allclose(g(x, diff), base)


@pytest.mark.parametrize("inject_levels", [0, 1, 2])
def test_diff_reaches_the_output_through_the_stus_alone_or_the_decoder(inject_levels: int) -> None:
    g = STGANGenerator(32, ATTRS, widths=small_widths(32), inject_levels=inject_levels).eval()
    diff = diffs(2).requires_grad_(True)
    g(images(2, 32), diff).sum().backward()
    assert diff.grad is not None
    assert (diff.grad != 0).any()


@pytest.mark.parametrize(("gated", "use_stu"), [(True, True), (False, True), (True, False), (False, False)])
def test_generator_ablations(gated: bool, use_stu: bool) -> None:
    g = STGANGenerator(32, ATTRS, widths=small_widths(32), gated=gated, use_stu=use_stu)
    assert all(isinstance(level, GatedConv2d) == gated for level in g.encoder)
    assert len(g.stus) == (2 if use_stu else 0)
    assert any(isinstance(m, SelectiveTransferUnit) for m in g.modules()) == use_stu
    features = g.encode(images(2, 32))
    skips = g.skips(features, diffs(2))
    assert [s.shape[1:] for s in skips] == [(8, 8, 8), (4, 16, 16)]
    assert g.decode(features, diffs(2)).shape == (2, 3, 32, 32)


@pytest.mark.parametrize("stu_levels", [0, 1, 3])
def test_generator_with_fewer_skips(stu_levels: int) -> None:
    g = STGANGenerator(64, ATTRS, widths=[2, 4, 8, 16], stu_levels=stu_levels)
    assert len(g.stus) == stu_levels
    assert g.inject_levels == stu_levels
    assert g(images(1, 64), diffs(1)).shape == (1, 3, 64, 64)


@pytest.mark.parametrize("use_stu", [True, False])
def test_gradients_reach_every_generator_parameter(use_stu: bool) -> None:
    g = STGANGenerator(32, ATTRS, widths=small_widths(32), use_stu=use_stu)
    y = g(images(4, 32), diffs(4))
    (y * torch.randn(y.shape, generator=seeded(1))).sum().backward()
    assert_every_parameter_learns(g)


def test_generator_refuses_bad_inputs() -> None:
    g = STGANGenerator(32, ATTRS, widths=small_widths(32))
    with pytest.raises(ValueError, match=r"x must be \(B, 3, 32, 32\)"):
        g(images(2, 64), diffs(2))
    with pytest.raises(ValueError, match=r"x must be \(B, 3, 32, 32\)"):
        g(torch.zeros(2, 4, 32, 32), diffs(2))
    with pytest.raises(ValueError, match="diff must be"):
        g(images(2, 32), torch.zeros(2, ATTRS + 1))
    with pytest.raises(ValueError, match="diff must be"):
        g(images(2, 32), torch.zeros(3, ATTRS))
    with pytest.raises(ValueError, match="encoder levels"):
        g.decode(g.encode(images(2, 32))[1:], diffs(2))


# --- discriminator -------------------------------------------------------------------------


@pytest.mark.parametrize("size", [32, 64, 128])
def test_discriminator_shapes(size: int) -> None:
    d = STGANDiscriminator(size, ATTRS, widths=small_widths(size), fc_width=16)
    adv, attrs = d(images(2, size))
    assert adv.shape == (2,)
    assert attrs.shape == (2, ATTRS)


def test_discriminator_default_structure_has_no_batch_norm() -> None:
    d = STGANDiscriminator(128, 5)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in d.modules())
    norms = [m for m in d.modules() if isinstance(m, nn.InstanceNorm2d)]
    assert [m.num_features for m in norms] == [64, 128, 256, 512, 1024]
    assert all(m.affine for m in norms)
    assert d.adversarial[0].out_features == d.attributes[0].out_features == 1024


def test_discriminator_scores_each_sample_on_its_own() -> None:
    d = STGANDiscriminator(32, ATTRS, widths=small_widths(32), fc_width=16)
    x = images(4, 32)
    adv, attrs = d(x)
    adv_one, attrs_one = d(x[1:2])
    torch.testing.assert_close(adv_one, adv[1:2])
    torch.testing.assert_close(attrs_one, attrs[1:2])


def test_gradients_reach_every_discriminator_parameter() -> None:
    d = STGANDiscriminator(32, ATTRS, widths=small_widths(32), fc_width=16)
    adv, attrs = d(images(4, 32))
    (adv.sum() + (attrs * torch.randn(attrs.shape, generator=seeded(1))).sum()).backward()
    assert_every_parameter_learns(d)


def test_discriminator_refuses_bad_inputs() -> None:
    d = STGANDiscriminator(32, ATTRS, widths=small_widths(32), fc_width=16)
    with pytest.raises(ValueError, match=r"x must be \(B, 3, 32, 32\)"):
        d(images(2, 16))
