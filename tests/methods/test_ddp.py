"""GADN under DDP on CPU: 2 processes (gloo) run stage 1, C2 pretraining and stage 2 from the
checkpoints the first two wrote, as a multi-GPU user does.

Lightning's DDP starts the other ranks by running the script again, so the training runs in
a script of its own in a subprocess. Each rank prints what it finished with a checksum of its
weights: the ranks must agree (DDP keeps them in sync even though each optimizer step leaves
the other networks without gradients, which needs ``find_unused_parameters``). Stage 2 draws
sample grids on rank 0 meanwhile, which must not leave rank 1 waiting in a collective call.
The same launch then scores fresh models on the val split, each rank half of it (the
transfer scores of SyntheticTransferScores included): the measures must equal one process's
(torchmetrics sums them across processes).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

SCRIPT = textwrap.dedent(
    """
    import json
    import sys
    from pathlib import Path

    import lightning as L
    import torch

    from animestyle.callbacks import SampleGrids
    from animestyle.data import AnimeFacesDataModule, SyntheticSource
    from animestyle.methods import GADNClassifierPretrain, GADNStage1, GADNStage2

    root = Path(sys.argv[1])
    tiny = dict(num_artists=4, image_size=32, widths=[8, 16, 32], fc_width=32, content_dim=8, style_dim=4)


    def data():
        source = SyntheticSource(num_artists=4, train_size=32, val_size=8)
        return AnimeFacesDataModule(synthetic=source, image_size=32, batch_size=8, num_workers=0)


    def fit(name, model, max_steps, callbacks=()):
        trainer = L.Trainer(
            default_root_dir=root / name,
            accelerator="cpu",
            devices=2,
            strategy="ddp_find_unused_parameters_true",
            max_steps=max_steps,
            limit_val_batches=0,
            logger=False,
            enable_checkpointing=False,
            enable_progress_bar=False,
            enable_model_summary=False,
            callbacks=list(callbacks),
        )
        trainer.fit(model, datamodule=data())
        path = root / f"{name}.ckpt"
        trainer.save_checkpoint(path)  # every rank calls it; rank 0 writes
        checksum = sum(p.double().sum().item() for p in model.state_dict().values() if p.is_floating_point())
        iteration = int(model.iteration) if hasattr(model, "iteration") else trainer.global_step
        world = torch.distributed.get_world_size()
        # One write per line: both ranks share the pipe, and print() writes the newline apart.
        line = f"DONE {name} rank={trainer.global_rank} world={world} iteration={iteration} checksum={checksum:.10e}"
        sys.stdout.write(line + "\\n")
        sys.stdout.flush()
        return str(path)


    L.seed_everything(0)
    stage1 = fit("stage1", GADNStage1(**tiny), max_steps=6)  # 3 iterations: E/G/S and C1 steps
    c2 = fit("c2", GADNClassifierPretrain(**tiny), max_steps=3)
    stage2 = GADNStage2(**tiny, stage1_checkpoint=stage1, classifier_checkpoint=c2, ema_decay=0.5)
    fit("stage2", stage2, max_steps=6, callbacks=[SampleGrids(every_n_iterations=2, num_images=2, num_artists=2)])

    # The held-out measures of fresh models, each rank scoring half of the split.
    from tests.methods.test_ddp import held_out_scores
    scores = held_out_scores(devices=2)
    sys.stdout.write(f"SCORES rank={torch.distributed.get_rank()} " + json.dumps(scores, sort_keys=True) + "\\n")
    """
)


REPO = Path(__file__).resolve().parents[2]
TIMEOUT = 300  # seconds; the run takes about 13 s on 2 CPU cores


def run_script(tmp_path: Path, source: str, *args: str) -> str:
    """Run ``source`` as a script in a subprocess (Lightning's DDP starts rank 1 by running it
    again) and return its output; fail with the output's tail if it fails or hangs."""
    script = tmp_path / "ddp_script.py"
    script.write_text(source)
    env = {**os.environ, "WANDB_MODE": "disabled", "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "1"}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])  # the script imports tests.*
    env["ANIMESTYLE_CACHE"] = str(tmp_path / "cache")  # the oracle it trains: not in ~/.cache
    env.pop("LOCAL_RANK", None)  # a fresh launch, even if pytest itself runs under a launcher
    # Its own process group, so that a hang (a collective call on one rank only) ends with
    # every rank killed, not with rank 1 left behind.
    process = subprocess.Popen(
        [sys.executable, str(script), *args],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        output, _ = process.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        pytest.fail(f"the DDP run did not finish in {TIMEOUT} s (a rank waits for the other?):\n{output[-5000:]}")
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == 0, output[-5000:]
    return output


@pytest.fixture(scope="module")
def ddp_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """One DDP launch for the tests below: its folder and output."""
    root = tmp_path_factory.mktemp("ddp")
    return root, run_script(root, SCRIPT, str(root / "runs"))


@pytest.fixture
def ddp_output(ddp_run: tuple[Path, str]) -> str:
    return ddp_run[1]


@pytest.mark.slow
@pytest.mark.xdist_group("ddp")  # one worker: the DDP launch runs once for both tests
def test_gadn_trains_on_two_cpu_processes(ddp_run: tuple[Path, str]) -> None:
    tmp_path, output = ddp_run
    done = re.findall(r"DONE (\w+) rank=(\d) world=(\d) iteration=(\d+) checksum=([-+.0-9e]+)", output)
    expected_iterations = {"stage1": 3, "c2": 3, "stage2": 3}
    for name, iterations in expected_iterations.items():
        ranks = {
            int(rank): (int(world), int(iteration), checksum)
            for n, rank, world, iteration, checksum in done
            if n == name
        }
        assert sorted(ranks) == [0, 1], f"{name}: ranks that finished: {sorted(ranks)}\n{output[-5000:]}"
        assert {world for world, _, _ in ranks.values()} == {2}
        assert {iteration for _, iteration, _ in ranks.values()} == {iterations}, ranks
        assert ranks[0][2] == ranks[1][2], f"{name}: the ranks' weights differ: {ranks}"
        assert (tmp_path / "runs" / f"{name}.ckpt").is_file()
    samples = sorted((tmp_path / "runs" / "stage2").rglob("*.png"))
    assert samples, "rank 0 drew no sample grids in stage 2"


def held_out_scores(devices: int) -> dict[str, float]:
    """``validate`` of fresh GADN stage-1 and C2 models (seeded) on 12 val images in batches of
    4 (4 + 2 per rank under DDP, 4 + 4 + 4 in one process), stage 1 with the transfer scores
    of 9 portraits (5 + 4: shares of unequal size, whose mean of means is not the mean), and
    TransferScores of 10 fixed image pairs, each rank updating it with its share."""
    import lightning as L
    import torch

    from animestyle.callbacks import SyntheticTransferScores
    from animestyle.data import AnimeFacesDataModule, SyntheticSource
    from animestyle.methods import GADNClassifierPretrain, GADNStage1
    from animestyle.metrics import TransferScores

    tiny = dict(num_artists=4, image_size=32, widths=[8, 16, 32], fc_width=32, content_dim=8, style_dim=4)
    data = AnimeFacesDataModule(
        synthetic=SyntheticSource(num_artists=4, train_size=8, val_size=12), image_size=32, batch_size=4, num_workers=0
    )
    scores: dict[str, float] = {}
    scored = SyntheticTransferScores(num_items=9, batch_size=3, oracle_steps=2)
    for method in (GADNStage1, GADNClassifierPretrain):
        torch.manual_seed(0)
        trainer = L.Trainer(
            accelerator="cpu", devices=devices, strategy="ddp_find_unused_parameters_true" if devices > 1 else "auto",
            logger=False, enable_progress_bar=False, enable_model_summary=False,
            callbacks=[scored] if method is GADNStage1 else [],
        )  # fmt: skip
        (logged,) = trainer.validate(method(**tiny), datamodule=data, verbose=False)
        scores.update({k: float(v) for k, v in logged.items()})
    rank, world = (torch.distributed.get_rank(), torch.distributed.get_world_size()) if devices > 1 else (0, 1)
    fake, true = torch.rand(2, 10, 3, 16, 16, generator=torch.Generator().manual_seed(1)) * 2 - 1
    metric = TransferScores()
    metric.update(fake[rank::world], true[rank::world])
    scores.update({f"transfer_{k}": float(v) for k, v in metric.compute().items()})
    return scores


@pytest.mark.slow
@pytest.mark.xdist_group("ddp")
def test_measures_of_two_processes_equal_those_of_one(ddp_output: str) -> None:
    """The held-out measures a method logs, and a metric's value, are the whole split's under
    DDP (two gloo processes, each scoring half), equal to one process's on the same data."""
    found = {int(rank): json.loads(values) for rank, values in re.findall(r"SCORES rank=(\d) (\{.*\})", ddp_output)}
    assert sorted(found) == [0, 1], ddp_output[-5000:]
    expected = held_out_scores(devices=1)
    assert {"val/rec", "val/c2", "val/c2_acc", "transfer_l1", "transfer_psnr", "transfer_ssim"} <= expected.keys()
    assert {"val/transfer_l1", "val/target_accuracy", "val/content_accuracy"} <= expected.keys()
    for rank in (0, 1):
        assert found[rank].keys() == expected.keys()
        for name, value in expected.items():
            assert found[rank][name] == pytest.approx(value, rel=1e-5, abs=1e-6), (rank, name, found[rank], expected)
