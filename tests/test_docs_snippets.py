"""The Python snippets of the docs pages that promise to run as they are, run as they are."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from PIL import Image

from animestyle.data import AnimeFacesDataModule
from animestyle.data.datamodule import SyntheticSource
from animestyle.methods import GADNStage1
from tests.helpers import cpu_trainer

REPO = Path(__file__).resolve().parents[1]
MAIN_JOB = Path("outputs/gadn/synthetic32/stage1/checkpoints/last.ckpt")  # the README's main job


def snippets(page: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", (REPO / "docs" / page).read_text(), flags=re.DOTALL)


@pytest.fixture(scope="module")
def main_job(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding a (tiny, 2-iteration) checkpoint where the README's main job writes its own."""
    root = tmp_path_factory.mktemp("main_job")
    torch.manual_seed(0)
    model = GADNStage1(num_artists=8, image_size=32, widths=[8, 16, 32], fc_width=16, content_dim=8, style_dim=4)
    data = AnimeFacesDataModule(synthetic=SyntheticSource(num_artists=8, train_size=32, val_size=8), image_size=32)
    trainer = cpu_trainer(root, max_steps=4, limit_val_batches=0)
    trainer.fit(model, data)
    (root / MAIN_JOB).parent.mkdir(parents=True)
    trainer.save_checkpoint(root / MAIN_JOB)
    return root


def test_the_using_page_has_its_snippets() -> None:
    assert len(snippets("using.md")) == 2


@pytest.mark.parametrize("index", range(2))
def test_the_snippets_of_the_using_page_run(index: int, main_job: Path) -> None:
    code = snippets("using.md")[index]
    done = subprocess.run([sys.executable, "-c", code], cwd=main_job, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    if index == 0:
        with Image.open(main_job / "restyled.png") as grid:
            assert grid.size == (5 * 33 + 1, 6 * 33 + 1)  # 5 columns, 6 rows of 32 px with 1-pixel gaps
        assert "GADNStage1 32 ['artist_0000', 'artist_0001', 'artist_0002']" in done.stdout
    else:
        with Image.open(main_job / "face_artist_0005.png") as picture:
            assert picture.size == (128, 128)
        assert done.stdout.split()[-4:] == ["(128,", "128)", "(1,", "8)"]
