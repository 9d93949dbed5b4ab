"""Attribute-editing metrics (ANIMEGAN report Sec. 5). The tools ``animestyle edit-report`` and
``animestyle edit`` are tested in ``tests/tools``."""

from __future__ import annotations

import json
from typing import ClassVar

import numpy as np
import pytest
import torch

from animestyle.data import AnimeFacesDataModule
from animestyle.data.datamodule import SyntheticSource
from animestyle.data.synthetic import ATTRIBUTE_NAMES, SyntheticPortraits, attributes, with_attribute
from animestyle.metrics import editable, evaluate_edits, evaluate_reconstruction, psnr, ssim
from animestyle.metrics.image_quality import changed_region, region_psnr

# in an order of their own, to check that columns are matched by name
NAMES = ["smile", "blush", "open_mouth", "long_hair", "pink_hair", "blue_eyes"]
COLUMNS = [ATTRIBUTE_NAMES.index(n) for n in NAMES]


def _portraits(length: int = 20) -> SyntheticPortraits:
    return SyntheticPortraits(length=length, num_artists=2, size=32, split="val")


# --- image quality ------------------------------------------------------------------------------


def test_psnr_and_ssim_known_values() -> None:
    x = torch.rand(2, 3, 16, 16) * 1.6 - 0.8
    assert psnr(x, x).tolist() == [100.0, 100.0]
    assert ssim(x, x) == pytest.approx(torch.ones(2), abs=1e-5)
    # 0.2 in [-1, 1] is 0.1 on [0, 1]: mean squared error 0.01, 20 dB
    assert psnr(x + 0.2, x) == pytest.approx(torch.full((2,), 20.0), abs=1e-3)
    assert (ssim(x + 0.2, x) < 1).all()
    with pytest.raises(ValueError, match="one shape"):
        psnr(x, x[:1])


def test_region_psnr_counts_only_the_changed_pixels() -> None:
    before = torch.zeros(2, 3, 8, 8)
    after = before.clone()
    after[0, :, :2, :2] = 1.0  # image 0: a 2x2 corner changes; image 1: nothing
    region = changed_region(before, after)
    assert region.shape == (2, 1, 8, 8)
    assert int(region[0].sum()) == 4
    assert not region[1].any()
    # inside the corner the input is off by 1 in [-1, 1] = 0.5 on [0, 1]: mse 0.25, 6.02 dB;
    # over the whole image the same error is diluted 16 times (18.06 dB)
    value = region_psnr(before, after, region)
    assert value[0].item() == pytest.approx(6.0206, abs=1e-3)
    assert psnr(before, after)[0].item() == pytest.approx(18.0618, abs=1e-3)
    assert torch.isnan(value[1])
    assert region_psnr(after, after, region)[0].item() == 100.0
    with pytest.raises(ValueError, match="region must be"):
        region_psnr(before, after, region[:, :, :4])


# --- editable ---------------------------------------------------------------------------------


def test_editable_flips_binary_attributes_and_only_switches_colours_on() -> None:
    portraits = _portraits(40)
    seen_colour_on = seen_colour_off = False
    for i in range(len(portraits)):
        content = portraits.content(i)
        now = dict(zip(ATTRIBUTE_NAMES, attributes(content).tolist(), strict=True))
        assert editable(portraits, i, "blush") is (now["blush"] == 0)
        assert editable(portraits, i, "long_hair") is (now["long_hair"] == 0)
        if now["pink_hair"]:
            assert editable(portraits, i, "pink_hair") is None
            seen_colour_on = True
        else:
            assert editable(portraits, i, "pink_hair") is True
            seen_colour_off = True
        for name in ATTRIBUTE_NAMES:  # every defined edit is one the ground truth can draw
            value = editable(portraits, i, name)
            if value is not None:
                edited = attributes(with_attribute(content, name, value))
                assert edited[ATTRIBUTE_NAMES.index(name)] == float(value)
    assert seen_colour_on
    assert seen_colour_off
    with pytest.raises(ValueError, match="'purple_eyebrows'"):
        editable(portraits, 0, "purple_eyebrows")


# --- evaluate_edits on stub editors --------------------------------------------------------------


def _key(x: torch.Tensor) -> bytes:
    return x.detach().cpu().float().numpy().tobytes()


class _Identity(torch.nn.Module):
    """A generator that changes nothing."""

    def forward(self, x: torch.Tensor, diff: torch.Tensor) -> torch.Tensor:
        return x


class _Truth(torch.nn.Module):
    """A generator that returns the true edit: the ground-truth render of the target vector."""

    def __init__(self, portraits: SyntheticPortraits, names: list[str]):
        super().__init__()
        self.portraits, self.names = portraits, names
        self.index = {_key(portraits[i]["x"]): i for i in range(len(portraits))}

    def forward(self, x: torch.Tensor, diff: torch.Tensor) -> torch.Tensor:
        return torch.stack([self._one(image, d) for image, d in zip(x, diff, strict=True)])

    def _one(self, image: torch.Tensor, diff: torch.Tensor) -> torch.Tensor:
        i = self.index[_key(image)]
        content = self.portraits.content(i)
        target = attributes(content)[COLUMNS] + diff.numpy()
        for name in self.names:
            for value in (False, True):
                try:
                    edited = with_attribute(content, name, value)
                except ValueError:
                    continue
                if np.array_equal(attributes(edited)[COLUMNS], target):
                    return self.portraits.edit(i, name, value)
        raise AssertionError(f"no edit of item {i} reaches {target}")


class _Editor:
    def __init__(self, generator: torch.nn.Module):
        self.generator, self.attribute_names = generator, list(NAMES)

    def targets(self, source: torch.Tensor, changes: dict[str, float]) -> torch.Tensor:
        target = source.clone()
        for name, value in changes.items():
            target[:, NAMES.index(name)] = value
        return target


class _LookupClassifier:
    """Reads attributes perfectly off every image it has been shown the truth of."""

    def __init__(self, portraits: SyntheticPortraits):
        self.attribute_names = list(reversed(ATTRIBUTE_NAMES))  # yet another order
        self.known: dict[bytes, torch.Tensor] = {}
        for i in range(len(portraits)):
            content = portraits.content(i)
            self._learn(portraits[i]["x"], attributes(content))
            for name in ATTRIBUTE_NAMES:
                value = editable(portraits, i, name)
                if value is not None:
                    self._learn(portraits.edit(i, name, value), attributes(with_attribute(content, name, value)))

    def _learn(self, x: torch.Tensor, attrs: np.ndarray) -> None:
        self.known[_key(x)] = torch.from_numpy(attrs[::-1].copy())

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        return torch.stack([self.known[_key(image)] for image in x]) * 0.8 + 0.1


def test_evaluate_edits_tells_the_edit_from_the_input_and_the_ground_truth() -> None:
    portraits = _portraits()
    judge = _LookupClassifier(portraits)
    unchanged = evaluate_edits(_Editor(_Identity()), portraits, judge, images=20, batch_size=8)  # type: ignore[arg-type]
    assert unchanged["images"] == 20
    assert unchanged["attributes"] == NAMES
    assert unchanged["reconstruction"] == {"psnr": 100.0, "ssim": pytest.approx(1.0, abs=1e-5)}
    for name, row in unchanged["per_attribute"].items():
        wanted = sum(editable(portraits, i, name) is not None for i in range(20))
        assert row["n"] == wanted
        assert row["edit_psnr"] == row["input_psnr"] < 100
        assert row["edit_ssim"] == row["input_ssim"] < 1
        assert row["edit_region_psnr"] == row["input_region_psnr"] < row["input_psnr"]  # the input is wrong there
        assert row["acc_edit"] == row["acc_input"] == 0.0  # the input never has the value the edit sets
        assert row["acc_truth"] == 1.0
    assert unchanged["per_attribute"]["blush"]["n"] == 20  # binary: every image
    assert unchanged["per_attribute"]["pink_hair"]["n"] < 20  # colours only where off

    perfect = evaluate_edits(_Editor(_Truth(portraits, NAMES)), portraits, judge, images=20, batch_size=8)  # type: ignore[arg-type]
    for name, row in perfect["per_attribute"].items():
        assert row["n"] == unchanged["per_attribute"][name]["n"]
        assert row["edit_psnr"] == row["edit_region_psnr"] == 100.0
        assert row["edit_ssim"] == pytest.approx(1.0, abs=1e-5)
        assert row["input_psnr"] == unchanged["per_attribute"][name]["input_psnr"]
        assert row["acc_edit"] == row["acc_truth"] == 1.0
        assert row["acc_input"] == 0.0
    assert perfect["mean"]["acc_edit"] == 1.0
    means = [row["input_psnr"] for row in perfect["per_attribute"].values()]
    assert perfect["mean"]["input_psnr"] == pytest.approx(sum(means) / len(means))
    json.dumps(perfect)  # plain numbers


def test_evaluate_edits_without_classifier_and_on_chosen_attributes() -> None:
    portraits = _portraits(6)
    result = evaluate_edits(_Editor(_Identity()), portraits, images=50, attributes=["blush"])  # type: ignore[arg-type]
    assert result["images"] == 6  # at most the dataset
    assert list(result["per_attribute"]) == ["blush"]
    row = result["per_attribute"]["blush"]
    assert row["acc_edit"] is row["acc_input"] is row["acc_truth"] is None
    assert result["mean"]["acc_edit"] is None
    assert result["mean"]["edit_psnr"] == row["edit_psnr"]
    with pytest.raises(ValueError, match=r"'glasses'.*unknown to the editor"):
        evaluate_edits(_Editor(_Identity()), portraits, attributes=["glasses"])  # type: ignore[arg-type]


def test_evaluate_reconstruction_on_data_without_ground_truth() -> None:
    data = AnimeFacesDataModule(
        synthetic=SyntheticSource(num_artists=2, train_size=1, val_size=10), image_size=32, attributes=NAMES
    )

    class Reader:  # reads blush and pink hair on every image, nothing else
        attribute_names: ClassVar = ["pink_hair", *NAMES[:4], "blue_eyes", "glasses"]

        def predict(self, x: torch.Tensor) -> torch.Tensor:
            return torch.tensor([0.9, 0.1, 0.9, 0.1, 0.1, 0.1, 0.1]).expand(len(x), -1)

    result = evaluate_reconstruction(_Editor(_Identity()), data, images=7, classifier=Reader())  # type: ignore[arg-type]
    assert result["images"] == 7
    assert result["reconstruction"]["psnr"] == 100.0
    rows = result["per_attribute"]
    assert rows["pink_hair"] == {"n": 0, "acc_edit": None}  # a colour that is on is never switched off
    assert rows["blue_eyes"] == {"n": 7, "acc_edit": 0.0}  # switched on, but the edit changes nothing
    assert rows["blush"] == {"n": 7, "acc_edit": 0.0}
    assert result["mean"] == {"acc_edit": 0.0}
    assert evaluate_reconstruction(_Editor(_Identity()), data, images=3)["per_attribute"] == {}  # type: ignore[arg-type]


# --- load_image ----------------------------------------------------------------------------
