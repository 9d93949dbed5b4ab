"""GADN's Table 8 analogue: an adversarially fine-tuned copy of the oracle's artist classifier."""

from __future__ import annotations

import pytest
import torch

from animestyle.metrics import SyntheticOracle, adversarial_accuracy


def test_the_adversarial_classifier_stops_naming_the_target_of_what_it_learned_to_reject() -> None:
    torch.manual_seed(0)
    oracle = SyntheticOracle(num_artists=4, image_size=32, width=8).eval()
    before = {k: v.clone() for k, v in oracle.state_dict().items()}
    real, real_artist = torch.rand(16, 3, 32, 32) * 2 - 1, torch.arange(16) % 4
    fake = torch.zeros(8, 3, 32, 32)  # grey "transfers", each aimed at the artist the oracle names
    with torch.no_grad():
        target = oracle.heads["artist"](oracle.trunk(fake)).argmax(1)
    # No fine-tuning: the oracle itself (non-adversarial) names every target.
    assert adversarial_accuracy(oracle, real, real_artist, fake, target, steps=0) == 1.0
    # Fine-tuned to reject the targets of the first half, it names none of the second half's.
    assert adversarial_accuracy(oracle, real, real_artist, fake, target, steps=30, batch_size=8, lr=1e-3) == 0.0
    for key, value in oracle.state_dict().items():  # the oracle itself is left as it was
        assert torch.equal(value, before[key]), key


def test_too_few_transfers_are_refused() -> None:
    oracle = SyntheticOracle(num_artists=4, image_size=32, width=8)
    x = torch.zeros(1, 3, 32, 32)
    with pytest.raises(ValueError, match="at least 2 transfers"):
        adversarial_accuracy(oracle, x, torch.zeros(1, dtype=torch.long), x, torch.zeros(1, dtype=torch.long))
