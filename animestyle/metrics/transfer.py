"""Style transfer scored against the synthetic ground truth.

A transfer of image ``x_i`` (content ``i``, drawn by artist ``a``) to artist ``a' != a`` is
``G(E(x_i), S(a'))`` with the mean content code and the mean style code. On the synthetic
portraits its true result is known exactly (``SyntheticPortraits.transfer(i, a')``), and a
trained oracle tells whose style it shows (the paper's classification measure, Sec. 5.2.2 of
Xiang & Li, arXiv:1905.10742, with an oracle in place of their classifier).
"""

from __future__ import annotations

from typing import Protocol

import torch
from torch import nn
from torch.utils.data import DataLoader, Subset

from animestyle.checks import check_count
from animestyle.data.synthetic import SyntheticPortraits
from animestyle.losses import pixel_distance
from animestyle.metrics.devices import module_device
from animestyle.nn.modes import eval_mode

__all__ = ["ArtistPredictor", "evaluate_transfers", "target_artists"]


class ArtistPredictor(Protocol):
    """Anything that names the artist of images, like :class:`~animestyle.metrics.SyntheticOracle`."""

    def predict_artist(self, x: torch.Tensor) -> torch.Tensor:
        """Images (B, 3, H, W) in [-1, 1] -> (B,) int64 artists."""
        ...


def target_artists(source: torch.Tensor, num_artists: int, seed: int = 0) -> torch.Tensor:
    """A target artist per source artist, uniform over the *other* artists, from a seeded
    generator (the global RNG is untouched).

    Args:
        source: (N,) int64 artists in [0, num_artists).
        num_artists: ``A`` >= 2.
        seed: seed of the draw.

    Returns:
        (N,) int64, never equal to ``source``.
    """
    check_count("num_artists", num_artists, 2)
    generator = torch.Generator().manual_seed(seed)
    shift = torch.randint(1, num_artists, source.shape, generator=generator)
    return (source.cpu() + shift) % num_artists


@torch.no_grad()
def evaluate_transfers(
    encoder: nn.Module,
    generator: nn.Module,
    style_bank: nn.Module,
    portraits: SyntheticPortraits,
    oracle: ArtistPredictor,
    num_items: int = 256,
    seed: int = 0,
    batch_size: int = 64,
) -> dict[str, float]:
    """Transfer the first ``num_items`` portraits each to another artist and score the results.

    Item ``i`` (artist ``a``) goes to ``a'``, drawn uniformly from the other artists by
    :func:`target_artists` with ``seed``. The transfer ``x_fake = G(mean of E(x_i), mean of
    S(a'))`` is clamped to [-1, 1], as it would be shown. ``encoder``, ``generator`` and
    ``style_bank`` run in eval mode without gradients, on the device of the encoder's
    parameters; their modes are restored afterwards.

    Args:
        encoder: images (B, 3, H, W) in [-1, 1] -> content mean and std, (B, content_dim) each.
        generator: content (B, content_dim) and style (B, style_dim) codes -> images
            (B, 3, H, W), about [-1, 1].
        style_bank: artists (B,) int64 -> style mean and std, (B, style_dim) each (e.g.
            :class:`~animestyle.nn.StyleBank`).
        portraits: artist-labelled synthetic portraits (``label_by="artist"``) with the
            networks' number of artists and image size.
        oracle: names the artist of an image (``predict_artist``), e.g. ``load_oracle(
            portraits.num_artists, portraits.size, portraits.seed)``.
        num_items: how many portraits (the first ones) to transfer.
        seed: seed of the target artists.
        batch_size: images per forward pass.

    Returns:
        ``oracle_target_accuracy``: fraction of transfers the oracle assigns to the target
        artist ``a'`` (chance 1 / A); ``oracle_source_accuracy``: fraction it still assigns
        to the source artist ``a``; ``oracle_truth_accuracy``: the oracle's target accuracy
        on the true transfers, the ceiling of the first; ``true_render_distance``: mean
        :func:`~animestyle.losses.pixel_distance` between each transfer and the true
        transfer ``portraits.transfer(i, a')``; ``identity_distance``: the same for the input
        ``x_i`` itself, the trivial baseline of changing nothing; ``num_items``.

    Raises:
        ValueError: for data labelled by a content factor (the style bank then holds content
            classes, not artists, so a transfer to an artist is not defined), fewer than 2
            artists, or ``num_items`` beyond the dataset.
    """
    if portraits.label_by != "artist":
        raise ValueError(
            f"evaluate_transfers needs artist-labelled portraits (label_by='artist'); got label_by="
            f"{portraits.label_by!r}: the style bank then holds {portraits.label_by} classes, not artists"
        )
    if portraits.num_artists < 2:
        raise ValueError(f"a transfer needs another artist; the portraits have num_artists={portraits.num_artists}")
    num_items = check_count("num_items", num_items, 1)
    batch_size = check_count("batch_size", batch_size, 1)
    if num_items > len(portraits):
        raise ValueError(f"num_items={num_items} exceeds the {len(portraits)} portraits")

    source = torch.tensor([portraits.artist(i) for i in range(num_items)])
    target = target_artists(source, portraits.num_artists, seed)
    device, oracle_device = module_device(encoder), module_device(oracle)
    totals = dict.fromkeys(("target", "source", "truth", "true_render", "identity"), 0.0)
    with eval_mode(encoder, generator, style_bank):
        loader = DataLoader(Subset(portraits, range(num_items)), batch_size=batch_size)
        for batch in loader:
            index = batch["index"]
            artist_trg = target[index]
            x_real = batch["x"].to(device)
            mean, _ = encoder(x_real)
            s, _ = style_bank(artist_trg.to(device))
            x_fake = generator(mean, s).float().clamp(-1, 1).cpu()
            x_true = torch.stack([portraits.transfer(int(i), int(a)) for i, a in zip(index, artist_trg, strict=True)])
            predicted = oracle.predict_artist(x_fake.to(oracle_device)).cpu()
            predicted_true = oracle.predict_artist(x_true.to(oracle_device)).cpu()
            n = len(index)
            totals["target"] += (predicted == artist_trg).sum().item()
            totals["source"] += (predicted == source[index]).sum().item()
            totals["truth"] += (predicted_true == artist_trg).sum().item()
            totals["true_render"] += pixel_distance(x_fake, x_true).item() * n
            totals["identity"] += pixel_distance(batch["x"], x_true).item() * n
    return {
        "oracle_target_accuracy": totals["target"] / num_items,
        "oracle_source_accuracy": totals["source"] / num_items,
        "oracle_truth_accuracy": totals["truth"] / num_items,
        "true_render_distance": totals["true_render"] / num_items,
        "identity_distance": totals["identity"] / num_items,
        "num_items": float(num_items),
    }
