"""``animestyle transfer``: content images redrawn in the style of a reference image by a
checkpoint of each reference-guided transfer method (the methods: tests/methods/test_nst.py)."""

from pathlib import Path

import pytest
import torch

from animestyle.data.synthetic import SyntheticPortraits
from animestyle.tools import transfer
from tests.helpers import cpu_trainer
from tests.methods.test_nst import MAKERS, _data


@pytest.mark.parametrize("name", MAKERS)
def test_transfer_turns_image_files_into_pngs_and_checks_its_inputs_first(name: str, tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = MAKERS[name]()
    trainer = cpu_trainer(tmp_path, max_steps=3, limit_val_batches=0)
    trainer.fit(model, _data())
    trainer.save_checkpoint(tmp_path / "nst.ckpt")
    # image files in, PNGs out
    portraits = SyntheticPortraits(length=3, num_artists=3, size=64, seed=0)
    for i in range(3):
        portraits.image(i).save(tmp_path / f"face{i}.png")
    written = transfer(
        str(tmp_path / "nst.ckpt"), content=[str(tmp_path / "face0.png"), str(tmp_path / "face1.png")],
        style=str(tmp_path / "face2.png"), output=str(tmp_path / "out"),
    )  # fmt: skip
    assert sorted(p.name for p in written) == ["face0_face2.png", "face1_face2.png", "transfers.png"]
    with pytest.raises(ValueError, match=r"cannot read image .*nothing\.png"):
        transfer(str(tmp_path / "nst.ckpt"), content=[str(tmp_path / "nothing.png")], style=str(tmp_path / "face2.png"))
    (tmp_path / "other").mkdir()
    portraits.image(1).save(tmp_path / "other" / "face0.png")
    clashing = [str(tmp_path / "face0.png"), str(tmp_path / "other" / "face0.png")]
    clash = str(tmp_path / "clash")
    with pytest.raises(ValueError, match=r"content images \['face0'\] share a file name"):
        transfer(str(tmp_path / "missing.ckpt"), content=clashing, style=str(tmp_path / "face2.png"), output=clash)
    assert not (tmp_path / "clash").exists()
