"""Networks of conditional adversarial style transfer: shapes, gradients, weights from a file."""

from pathlib import Path

import pytest
import torch
import torchvision

from animestyle.networks import ContentEncoder, SkipDecoder, StyleEncoder, UNetGenerator, WaveletStyleEncoder


def _all_have_gradients(module: torch.nn.Module) -> bool:
    return all(p.grad is not None and p.grad.abs().sum() > 0 for p in module.parameters() if p.requires_grad)


@pytest.mark.parametrize(("size", "widths"), [(64, (8, 16, 32, 32, 32, 32)), (32, (8, 16, 16))])
def test_unet_maps_a_pair_of_images_to_one_image_with_every_weight_used(size: int, widths: tuple[int, ...]) -> None:
    g = UNetGenerator(size, widths)
    content, style = torch.randn(2, 3, size, size), torch.randn(2, 3, size, size)
    y = g(content, style)
    assert y.shape == (2, 3, size, size)
    assert y.abs().max() <= 1  # tanh
    y.square().sum().backward()
    assert _all_have_gradients(g)


def test_unet_output_depends_on_the_style_image() -> None:
    g = UNetGenerator(32, (8, 16, 16)).eval()
    content = torch.randn(1, 3, 32, 32)
    assert not torch.allclose(g(content, torch.randn(1, 3, 32, 32)), g(content, torch.randn(1, 3, 32, 32)))


def test_unet_reading_a_style_code_tiles_it_into_the_decoder() -> None:
    g = UNetGenerator(32, (8, 16, 16), out_channels=14, style_dim=5).eval()
    assert g.down[0][0].in_channels == 3  # the content alone
    content = torch.randn(2, 3, 32, 32)
    code = torch.randn(2, 5, requires_grad=True)
    y = g(content, code)
    assert y.shape == (2, 14, 32, 32)
    y.square().sum().backward()
    assert code.grad is not None
    assert code.grad.abs().sum() > 0
    assert not torch.allclose(g(content, torch.randn(2, 5)), g(content, torch.randn(2, 5)))
    with pytest.raises(ValueError, match=r"style must be \(B, 5\)"):
        g(content, torch.zeros(2, 3, 32, 32))


def test_unet_refuses_bad_sizes_and_inputs() -> None:
    with pytest.raises(ValueError, match="multiple of 2\\*\\*6"):
        UNetGenerator(48)
    with pytest.raises(ValueError, match=r"style must be \(B, 3, 64, 64\)"):
        UNetGenerator(64, (8,) * 6)(torch.zeros(1, 3, 64, 64), torch.zeros(1, 3, 32, 32))


def test_wavelet_style_encoder_gives_unit_embeddings_and_sees_detail_bands() -> None:
    f = WaveletStyleEncoder(64, levels=4, width=8, dim=16)
    x = torch.randn(3, 3, 64, 64, requires_grad=True)
    e = f(x)
    assert e.shape == (3, 16)
    torch.testing.assert_close(e.norm(dim=1), torch.ones(3))
    e[:, 0].sum().backward()
    assert _all_have_gradients(f)
    with pytest.raises(ValueError, match="multiple of 2\\*\\*levels"):
        WaveletStyleEncoder(40, levels=4)


def test_content_encoder_gives_a_unit_embedding_and_features_per_level() -> None:
    e, features = ContentEncoder(64, (8, 16, 32, 64))(torch.randn(2, 3, 64, 64))
    assert e.shape == (2, 64)
    torch.testing.assert_close(e.norm(dim=1), torch.ones(2))
    assert [tuple(f.shape) for f in features] == [(2, 8, 32, 32), (2, 16, 16, 16), (2, 32, 8, 8), (2, 64, 4, 4)]


def test_skip_decoder_uses_content_features_and_the_style() -> None:
    widths = (8, 16, 32, 64)
    encoder, decoder = ContentEncoder(64, widths), SkipDecoder(widths, style_dim=4)
    _, features = encoder(torch.randn(2, 3, 64, 64))
    style = torch.nn.functional.normalize(torch.randn(2, 4), dim=1)
    y = decoder(features, style)
    assert y.shape == (2, 3, 64, 64)
    y.square().sum().backward()
    assert _all_have_gradients(decoder)
    decoder.eval()
    assert not torch.allclose(decoder(features, style), decoder(features, style.flip(0)))
    with pytest.raises(ValueError, match="4 content feature maps"):
        decoder(features[:3], style)


def test_style_encoder_from_scratch_and_on_a_torchvision_backbone(tmp_path: Path) -> None:
    scratch = StyleEncoder(64, "conv", (8, 16, 32, 64), dim=32)
    assert scratch(torch.randn(2, 3, 64, 64)).shape == (2, 32)
    # a local state_dict of the same torchvision network: loaded, classifier ignored, nothing downloaded
    source = torchvision.models.resnet18(weights=None)
    torch.save(source.state_dict(), tmp_path / "resnet18.pth")
    encoder = StyleEncoder(64, "resnet18", weights=str(tmp_path / "resnet18.pth"), freeze_backbone=True)
    torch.testing.assert_close(encoder.backbone.net.conv1.weight, source.conv1.weight)
    e = encoder(torch.randn(2, 3, 64, 64))
    torch.testing.assert_close(e.norm(dim=1), torch.ones(2))
    assert not any(p.requires_grad for p in encoder.backbone.parameters())
    assert all(p.requires_grad for p in encoder.head.parameters())
    encoder.train()
    assert not encoder.backbone.training  # frozen batch-norm statistics too


def test_style_encoder_weights_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"missing\.pth' do not exist"):
        StyleEncoder(64, "resnet18", weights=str(tmp_path / "missing.pth"))
    (tmp_path / "junk.pth").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match=r"junk\.pth' are not readable"):
        StyleEncoder(64, "resnet18", weights=str(tmp_path / "junk.pth"))
    torch.save(torchvision.models.resnet18(weights=None).state_dict(), tmp_path / "resnet18.pth")
    with pytest.raises(ValueError, match="do not fit DenseNet"):
        StyleEncoder(64, "densenet121", weights=str(tmp_path / "resnet18.pth"))
    with pytest.raises(ValueError, match="choose 'conv' or one of"):
        StyleEncoder(64, "vgg16")
    with pytest.raises(ValueError, match="trains from scratch"):
        StyleEncoder(64, "conv", weights=str(tmp_path / "resnet18.pth"))
    with pytest.raises(ValueError, match="style_backbone='conv' has none"):
        StyleEncoder(64, "conv", freeze_backbone=True)
