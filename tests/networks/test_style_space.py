"""The style-space paper's networks: presets, shapes at 16 / 32 / 64 px, input checks,
random patches and the multi-scale discriminator."""

from __future__ import annotations

import re

import pytest
import torch
import torch.nn.functional as F

from animestyle.networks.style_space import (
    GaussianEncoder,
    MultiScaleDiscriminator,
    WNDecoder,
    WNEncoder,
    discriminator_scales,
    random_patches,
    style_space_preset,
)

SIZES = [16, 32, 64]


def seeded(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def images(batch: int, size: int, seed: int = 0) -> torch.Tensor:
    return torch.rand(batch, 3, size, size, generator=seeded(seed)) * 2 - 1


# --- presets -------------------------------------------------------------------------------


def test_presets_double_the_widths_per_level_down_to_4x4() -> None:
    p16, p32, p64 = (style_space_preset(s) for s in SIZES)
    assert p16.widths == (64, 128)
    assert p32.widths == (64, 128, 256)
    assert p64.widths == (64, 128, 256, 512)
    assert (p64.fc_width, p64.style_dim, p64.content_dim) == (256, 32, 64)
    p128, p256 = style_space_preset(128), style_space_preset(256)
    assert p128.widths == (32, 64, 128, 256, 512)
    assert p256.widths == (32, 64, 128, 256, 512, 512)  # capped at 512
    assert (p256.fc_width, p256.style_dim, p256.content_dim) == (1024, 128, 256)
    for size in (*SIZES, 128, 256):
        assert size // 2 ** len(style_space_preset(size).widths) == 4


@pytest.mark.parametrize("size", [0, 8, 12, 24, 48, 100, 96])
def test_presets_reject_sizes_that_are_not_4_times_a_power_of_two(size: int) -> None:
    with pytest.raises(ValueError, match=f"image_size={size} must be 4 x a power of two"):
        style_space_preset(size)


# --- shapes --------------------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES)
def test_preset_networks_have_the_documented_shapes(size: int) -> None:
    torch.manual_seed(0)
    p = style_space_preset(size)
    x = images(2, size)
    with torch.no_grad():
        style = WNEncoder(size, p.widths, p.style_dim)(x)
        assert style.shape == (2, p.style_dim)
        assert WNEncoder(size, p.widths, 5, fc_width=p.fc_width)(x).shape == (2, 5)
        mean, std = GaussianEncoder(size, p.widths, p.fc_width, p.content_dim)(x)
        assert mean.shape == std.shape == (2, p.content_dim)
        assert (std > 0).all()
        code_dim = p.style_dim + p.content_dim
        out = WNDecoder(code_dim, size, p.widths, p.fc_width)(torch.randn(2, code_dim, generator=seeded()))
        assert out.shape == (2, 3, size, size)
        assert WNDecoder(7, size, p.widths)(torch.randn(2, 7, generator=seeded())).shape == (2, 3, size, size)
        scales = discriminator_scales(size)
        d = MultiScaleDiscriminator(size, style_space_preset(scales[0]).widths, patches=3)
        logits = d(x)
    assert [tuple(t.shape) for t in logits] == [(2,), (6,), (6,)]
    for t in (style, mean, std, out, *logits):
        assert torch.isfinite(t).all()


def test_two_blocks_per_level_keep_the_shapes() -> None:
    widths = (8, 16, 32)
    enc = WNEncoder(32, widths, 6, blocks_per_level=2)
    dec = WNDecoder(6, 32, widths, blocks_per_level=2)
    assert len(enc.levels) == 6
    assert len(dec.levels) == 6
    assert dec(enc(images(2, 32))).shape == (2, 3, 32, 32)


# --- input checks --------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(2, 3, 16, 16), (2, 4, 32, 32), (2, 3, 32, 16), (3, 32, 32)])
def test_encoders_name_a_wrong_input_shape(shape: tuple[int, ...]) -> None:
    widths = (8, 16, 32)
    x = torch.zeros(shape)
    for network in (WNEncoder(32, widths, 4), GaussianEncoder(32, widths, 16, 4)):
        with pytest.raises(ValueError, match=re.escape(str(shape))) as error:
            network(x)
        assert "(B, 3, 32, 32)" in str(error.value)


@pytest.mark.parametrize("shape", [(2, 3, 16, 16), (2, 3, 64, 64), (2, 4, 32, 32), (2, 3, 32, 16)])
def test_the_discriminator_names_a_wrong_input_shape(shape: tuple[int, ...]) -> None:
    d = MultiScaleDiscriminator(32, (8, 16), patches=2)
    with pytest.raises(ValueError, match=re.escape(str(shape))):
        d(torch.zeros(shape))


@pytest.mark.parametrize("shape", [(2, 6), (2, 8), (8,), (2, 7, 1)])
def test_the_decoder_names_a_wrong_code_shape(shape: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match=re.escape(str(shape))) as error:
        WNDecoder(7, 32, (8, 16, 32))(torch.zeros(shape))
    assert "(B, 7)" in str(error.value)


@pytest.mark.parametrize(
    ("size", "widths"), [(32, (8, 16)), (32, (8, 16, 32, 64)), (48, (8, 16, 32)), (36, (8, 16, 32))]
)
def test_networks_reject_widths_that_do_not_reach_4x4(size: int, widths: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match=f"image_size={size}"):
        WNEncoder(size, widths, 4)
    with pytest.raises(ValueError, match=f"image_size={size}"):
        WNDecoder(4, size, widths)
    with pytest.raises(ValueError, match=f"image_size={size}"):
        GaussianEncoder(size, widths, 16, 4)


# --- random patches ------------------------------------------------------------------------


def coded(batch: int, height: int, width: int) -> torch.Tensor:
    """Images whose every value names its image, channel, row and column."""
    b, c, i, j = torch.meshgrid(
        torch.arange(batch), torch.arange(3), torch.arange(height), torch.arange(width), indexing="ij"
    )
    return (b * 100_000 + c * 10_000 + i * 100 + j).float()


def decode(patch: torch.Tensor) -> tuple[int, int, int]:
    """The image, top and left of a patch cut from :func:`coded` images."""
    corner = round(float(patch[0, 0, 0]))
    return corner // 100_000, (corner % 10_000) // 100, corner % 100


@pytest.mark.parametrize(("height", "width", "size"), [(32, 32, 16), (20, 28, 8), (16, 16, 16)])
def test_random_patches_are_crops_of_their_own_image_image_0_first(height: int, width: int, size: int) -> None:
    batch, count = 3, 5
    x = coded(batch, height, width)
    patches = random_patches(x, size, count, generator=seeded())
    assert patches.shape == (batch * count, 3, size, size)
    for k, patch in enumerate(patches):
        image, top, left = decode(patch)
        assert image == k // count  # image 0's crops first, then image 1's, ...
        assert 0 <= top <= height - size
        assert 0 <= left <= width - size
        assert torch.equal(patch, x[image, :, top : top + size, left : left + size]), f"patch {k}"


def test_random_patches_cover_every_position_and_follow_the_generator() -> None:
    x = coded(2, 12, 12)
    patches = random_patches(x, 8, 400, generator=seeded(1))
    corners = {decode(p)[1:] for p in patches}
    assert corners == {(top, left) for top in range(5) for left in range(5)}
    assert torch.equal(random_patches(x, 8, 4, generator=seeded(2)), random_patches(x, 8, 4, generator=seeded(2)))
    assert not torch.equal(random_patches(x, 8, 4, generator=seeded(2)), random_patches(x, 8, 4, generator=seeded(3)))


def test_random_patches_keep_gradients() -> None:
    x = torch.randn(2, 3, 8, 8, generator=seeded(), requires_grad=True)
    random_patches(x, 4, 3).sum().backward()
    assert x.grad is not None
    assert x.grad.sum().item() == pytest.approx(2 * 3 * 3 * 16)  # every patch value counts once


def test_random_patches_reject_patches_larger_than_the_images() -> None:
    with pytest.raises(ValueError, match="patches of 17 px do not fit in 16x20 images"):
        random_patches(torch.zeros(1, 3, 16, 20), 17, 2)


# --- the multi-scale discriminator ---------------------------------------------------------


def test_discriminator_scales() -> None:
    assert discriminator_scales(256) == (64, 128, 256)
    assert discriminator_scales(32) == (16, 23, 32)
    assert discriminator_scales(64) == (16, 32, 64)
    assert discriminator_scales(16) == (16, 16, 16)
    assert discriminator_scales(128) == (32, 64, 128)


def test_discriminator_views_are_the_downscaled_image_and_patches_of_two_scales() -> None:
    torch.manual_seed(0)
    d = MultiScaleDiscriminator(32, (8, 16), patches=3)
    assert d.scales == (16, 23, 32)
    x = coded(2, 32, 32) / 1e5
    whole, middle, full = d.views(x)
    assert whole.shape == (2, 3, 16, 16)
    assert middle.shape == full.shape == (6, 3, 16, 16)
    torch.testing.assert_close(whole, F.interpolate(x, size=(16, 16), mode="bilinear", antialias=True))
    for k, patch in enumerate(full):  # full size: crops of the image itself
        image, top, left = decode(patch * 1e5)
        assert image == k // 3
        torch.testing.assert_close(patch, x[image, :, top : top + 16, left : left + 16])
    resized = F.interpolate(x, size=(23, 23), mode="bilinear", antialias=True)
    crops = resized.unfold(2, 16, 1).unfold(3, 16, 1)  # (2, 3, 8, 8, 16, 16): every crop
    for k, patch in enumerate(middle):
        own = crops[k // 3]
        matches = (own - patch[:, None, None]).abs().amax(dim=(0, 3, 4)) < 1e-6
        assert matches.any(), f"middle patch {k} is not a crop of its image at 23 px"


def test_discriminator_outputs_one_logit_per_view_image() -> None:
    torch.manual_seed(0)
    d = MultiScaleDiscriminator(64, (8, 16), patches=4)
    assert d.scales == (16, 32, 64)
    assert len(d.networks) == 3
    assert d.networks[0] is not d.networks[1]
    x = images(3, 64)
    logits = d(x)
    assert [tuple(t.shape) for t in logits] == [(3,), (12,), (12,)]
    sum(t.sum() for t in logits).backward()  # type: ignore[union-attr]
    for i, net in enumerate(d.networks):
        assert all(p.grad is not None for p in net.parameters()), f"network {i}"


@pytest.mark.parametrize(
    ("scales", "match"),
    [
        ((16, 32, 23), "must be 3 increasing sizes"),
        ((23, 16, 32), "must be 3 increasing sizes"),
        ((16, 23, 64), "ending at image_size=32"),
        ((16, 23), "must be 3 increasing sizes"),
        ((16, 16, 23, 32), "must be 3 increasing sizes"),
    ],
)
def test_discriminator_rejects_bad_scales(scales: tuple[int, ...], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        MultiScaleDiscriminator(32, (8, 16), scales=scales)  # type: ignore[arg-type]


def test_discriminator_rejects_no_patches_and_widths_for_another_scale() -> None:
    with pytest.raises(ValueError, match="patches=0"):
        MultiScaleDiscriminator(32, (8, 16), patches=0)
    with pytest.raises(ValueError, match="image_size=16"):  # 3 levels take 32 px, not 16, to 4x4
        MultiScaleDiscriminator(32, (8, 16, 32))


def test_multiscale_discriminator_runs_under_cpu_bf16_autocast() -> None:
    # bf16-mixed on a CPU (the Danbooru configs' precision): antialiased resizing has no
    # bfloat16 kernel there, so the discriminator resizes in float32.
    discriminator = MultiScaleDiscriminator(64, (64, 128))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        outputs = discriminator(torch.randn(2, 3, 64, 64))
    assert [tuple(o.shape) for o in outputs] == [(2,), (8,), (8,)]
    assert all(torch.isfinite(o.float()).all() for o in outputs)
