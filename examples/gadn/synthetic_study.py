"""GADN on the synthetic portraits: the paper's encoder analysis and transfer scores, measured.

Xiang & Li, "Disentangling Style and Content in Anime Illustrations" (arXiv:1905.10742)
judge the stage-1 encoder by what its code knows (Sec. 6.1.4, Tables 4-7, on NIST): an
encoder trained to purge the writer (E_W) should hold the digit and not the writer; one
trained to purge the digit (E_D) the reverse; a vanilla VAE (E_V) both. Here the artist
plays the writer and the hair colour the digit, with every content factor known:

    python examples/gadn/synthetic_study.py                        # E_artist only (~minutes on a GPU)
    python examples/gadn/synthetic_study.py --nist                 # + E_hair_colour and the vanilla VAE E_V
    python examples/gadn/synthetic_study.py --nist --stage2 2000   # + C2 pretraining, stage 2, transfer scores

Steps: (a) stage 1 (``GADNStage1``, nested dropout on) for ``--iterations`` iterations for
each encoder, through a Lightning Trainer; (b) reconstruction distance on the val split
before and after; (c) Tables 4-7 and the linear probe for each encoder (and the untrained one),
labels = the true artist and every categorical content factor; (d) with ``--stage2 N``: C2
pretraining, N stage-2 iterations from the checkpoints, then ``evaluate_transfers`` of the
untrained, stage-1, stage-2 and stage-2 EMA generators against the synthetic oracle.
Prints Markdown tables and writes everything to ``--out`` (JSON).

Learning rates and lengths default to those of ``examples/gadn/synthetic32/*.yaml`` (5x to
10x the paper's rates, since these runs are ~100x shorter than the paper's).
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import lightning as L
import torch
from torch import nn
from torch.utils.data import DataLoader

from animestyle.data.synthetic import CONTENT_FACTORS, Categorical, SyntheticPortraits
from animestyle.losses import pixel_distance
from animestyle.methods import GADNClassifierPretrain, GADNStage1, GADNStage2
from animestyle.metrics import (
    encode_dataset,
    encoder_report,
    evaluate_transfers,
    format_tables,
    label_classes,
    load_oracle,
)
from animestyle.metrics.oracle import STEPS as ORACLE_STEPS
from animestyle.nn import eval_mode

CATEGORICAL = [f.name for f in CONTENT_FACTORS if isinstance(f, Categorical)]


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    data = parser.add_argument_group("data")
    data.add_argument("--num-artists", type=int, default=8)
    data.add_argument("--image-size", type=int, default=32)
    data.add_argument("--seed", type=int, default=0, help="seeds the data, the networks and the oracle")
    data.add_argument("--val-size", type=int, default=512, help="val images for the reconstruction distance")
    data.add_argument("--jitter", type=float, default=0.04, help="per-image style jitter of the portraits")
    stage1 = parser.add_argument_group("stage 1")
    stage1.add_argument("--iterations", type=int, default=2000, help="stage-1 iterations per encoder")
    stage1.add_argument("--batch-size", type=int, default=32)
    stage1.add_argument("--lr", type=float, default=5e-4, help="E, G and C1 (paper: 5e-5)")
    stage1.add_argument("--lr-style", type=float, default=5e-3, help="S (paper: 5e-3)")
    stage1.add_argument("--widths", type=int, nargs="+", default=None, help="default: gadn_preset of the size")
    stage1.add_argument("--fc-width", type=int, default=None)
    stage1.add_argument("--content-dim", type=int, default=None)
    stage1.add_argument("--style-dim", type=int, default=None)
    stage1.add_argument(
        "--nist", action="store_true", help="also E_hair_colour (label_by=hair_colour) and E_V (lambda_c1=0)"
    )
    stage1.add_argument("--vae", action="store_true", help="also E_V (lambda_c1=0), without --nist's E_hair_colour")
    stage1.add_argument("--depth", choices=["reference", "shallow"], default="reference", help="GADN network depth")
    stage1.add_argument("--lambda-c1", type=float, default=0.2, help="C1's weight in E_artist, E_hair_colour")
    stage1.add_argument("--cap-c1-at-prior", action="store_true", help="official code: push C1 only to the prior")
    stage1.add_argument("--lambda-erase", type=float, default=None, help="linear-erasure weight; default: the module's")
    stage1.add_argument("--lambda-e-kl", type=float, default=1e-4, help="E's KL weight (Table 2: 1e-4)")
    stage1.add_argument("--c1-input", choices=["generated", "code"], default="generated", help="what C1 reads")
    stage1.add_argument(
        "--nested-dropout", action=argparse.BooleanOptionalAction, default=True, help="order the content dimensions"
    )
    probe = parser.add_argument_group("encoder analysis (Tables 4-7)")
    probe.add_argument("--probe-train", type=int, default=4000, help="train-split codes the naive Bayes is fitted on")
    probe.add_argument("--probe-test", type=int, default=2000, help="test-split codes it is scored on")
    probe.add_argument("--dims", type=int, nargs="+", default=[2, 8], help="prefix lengths of the code")
    probe.add_argument("--probe-samples", action="store_true", help="also probe sampled codes, as G reads them")
    stage2 = parser.add_argument_group("stage 2 and transfers")
    stage2.add_argument("--stage2", type=int, default=0, metavar="N", help="stage-2 iterations; 0: skip stage 2")
    stage2.add_argument("--c2-iterations", type=int, default=1000, help="C2 pretraining iterations")
    stage2.add_argument("--c2-lr", type=float, default=5e-4, help="C2 pretraining (paper: 1e-4)")
    stage2.add_argument("--stage2-lr", type=float, default=1e-4, help="G, D and C2 (paper: 2e-5)")
    stage2.add_argument("--stage2-lr-style", type=float, default=0.01, help="S (paper: 0.01)")
    stage2.add_argument(
        "--ema-decay", type=float, default=0.999, help="EMA of G (horizon ~1/(1-decay) iterations; keep it below N)"
    )
    stage2.add_argument("--transfer-items", type=int, default=256, help="test portraits transferred")
    stage2.add_argument("--oracle-steps", type=int, default=ORACLE_STEPS, help="training steps of the oracle")
    run = parser.add_argument_group("run")
    run.add_argument("--accelerator", default="auto", help="Lightning accelerator: auto, cpu, gpu")
    run.add_argument("--num-workers", type=int, default=1, help="DataLoader workers rendering portraits")
    run.add_argument("--workdir", type=Path, default=Path("outputs/gadn/synthetic32/study"), help="checkpoints")
    run.add_argument("--out", type=Path, default=Path("outputs/gadn/synthetic32/study/results.json"))
    args = parser.parse_args(argv)
    if args.stage2 < 0 or args.iterations < 1 or args.c2_iterations < 1:
        parser.error("--iterations and --c2-iterations must be >= 1 and --stage2 >= 0")
    return args


# --- helpers ------------------------------------------------------------------------------


def eval_device(accelerator: str) -> torch.device:
    """Where the measurements run: the GPU when Lightning would train there."""
    use_gpu = accelerator in ("auto", "gpu", "cuda") and torch.cuda.is_available()
    return torch.device("cuda" if use_gpu else "cpu")


def portraits(
    args: argparse.Namespace, length: int, split: str = "train", label_by: str = "artist"
) -> SyntheticPortraits:
    return SyntheticPortraits(
        length=length,
        num_artists=args.num_artists,
        size=args.image_size,
        seed=args.seed,
        split=split,
        label_by=label_by,
        jitter=args.jitter,
    )


def fit(model: L.LightningModule, data: SyntheticPortraits, steps: int, args: argparse.Namespace) -> L.Trainer:
    """Train ``model`` for ``steps`` optimizer steps on ``data`` (one pass, no validation)."""
    loader = DataLoader(data, batch_size=args.batch_size, drop_last=True, num_workers=args.num_workers)
    trainer = L.Trainer(
        max_steps=steps,
        accelerator=args.accelerator,
        devices=1,
        logger=False,
        enable_checkpointing=False,
        enable_model_summary=False,
        enable_progress_bar=True,
        limit_val_batches=0,
        num_sanity_val_steps=0,
    )
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*does not have many workers.*")
        warnings.filterwarnings("ignore", message=".*val_dataloader.*")
        # stage 2's frozen E and EMA copy of G stay in eval mode on purpose
        warnings.filterwarnings("ignore", message=".*module\\(s\\) in eval mode.*")
        trainer.fit(model, loader)
    return trainer


@torch.no_grad()
def reconstruction_distance(model: GADNStage1, data: SyntheticPortraits, device: torch.device) -> float:
    """Mean ``pixel_distance(G(mean E(x), mean S(label)), x)`` over ``data`` (the val/rec of stage 1)."""
    model.to(device)
    total = 0.0
    with eval_mode(model):
        for batch in DataLoader(data, batch_size=256):
            x, label = batch["x"].to(device), batch["artist"].to(device)
            mean, _ = model.encoder(x)
            x_rec = model.generator(mean, model.style_bank(label)[0])
            total += pixel_distance(x_rec.float(), x).item() * len(x)
    model.cpu()
    return total / len(data)


@torch.no_grad()
def c2_accuracy(model: GADNClassifierPretrain, data: SyntheticPortraits, device: torch.device) -> float:
    model.to(device).eval()
    correct = sum(
        (model.classifier(b["x"].to(device)).argmax(1).cpu() == b["artist"]).sum().item()
        for b in DataLoader(data, batch_size=256)
    )
    model.cpu()
    return correct / len(data)


def stage1_model(args: argparse.Namespace, num_classes: int, lambda_c1: float) -> GADNStage1:
    """E_V (``lambda_c1=0``) has neither adversary nor erasure term: a plain VAE."""
    L.seed_everything(args.seed, verbose=False)
    erase = {"lambda_erase": 0.0 if lambda_c1 == 0 else args.lambda_erase}
    if erase["lambda_erase"] is None:  # the module's default
        erase = {}
    return GADNStage1(
        num_artists=num_classes,
        image_size=args.image_size,
        widths=args.widths,
        fc_width=args.fc_width,
        content_dim=args.content_dim,
        style_dim=args.style_dim,
        depth=args.depth,
        lambda_c1=lambda_c1,
        cap_c1_at_prior=args.cap_c1_at_prior,
        lambda_e_kl=args.lambda_e_kl,
        **erase,
        c1_input=args.c1_input,
        nested_dropout=args.nested_dropout,
        detach_target_style=True,  # as the official code; the figures in docs/gadn.md were measured so
        lr=args.lr,
        lr_style=args.lr_style,
    )


def markdown(rows: dict[str, dict[str, Any]], columns: Sequence[str], title: str) -> str:
    lines = [f"**{title}**", "", "| | " + " | ".join(columns) + " |", "|---|" + "---|" * len(columns)]
    for name, row in rows.items():
        cells = [f"{row[c]:.4f}" if isinstance(row.get(c), float) else str(row.get(c, "")) for c in columns]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


# --- the study ----------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    device = eval_device(args.accelerator)
    args.workdir.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {"config": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}}
    seconds: dict[str, float] = {}

    # (a, b) stage 1 for each encoder: name -> (label_by, lambda_c1)
    runs = {"E_artist": ("artist", args.lambda_c1)}
    if args.nist:
        runs["E_hair_colour"] = ("hair_colour", args.lambda_c1)
    if args.nist or args.vae:
        runs["E_V"] = ("artist", 0.0)
    probe_train, probe_test = portraits(args, args.probe_train), portraits(args, args.probe_test, "test")
    classes = label_classes(probe_train)
    models: dict[str, GADNStage1] = {}
    untrained = stage1_model(args, args.num_artists, args.lambda_c1)  # the same seed: E_artist's starting point
    models["E_init (untrained)"] = untrained
    reconstruction: dict[str, dict[str, float]] = {}
    checkpoints: dict[str, Path] = {}
    for name, (label_by, lambda_c1) in runs.items():
        start = time.perf_counter()
        train = portraits(args, args.iterations * args.batch_size, "train", label_by)
        val = portraits(args, args.val_size, "val", label_by)
        model = stage1_model(args, train.num_classes, lambda_c1)
        before = reconstruction_distance(model, val, device)
        print(f"\n== stage 1: {name} (label_by={label_by}, lambda_c1={lambda_c1}), {args.iterations} iterations")
        trainer = fit(model, train, 2 * args.iterations, args)  # two optimizer steps per iteration
        checkpoints[name] = args.workdir / f"stage1_{name}.ckpt"
        trainer.save_checkpoint(checkpoints[name])
        reconstruction[name] = {"before": before, "after": reconstruction_distance(model, val, device)}
        models[name] = model
        seconds[f"stage1 {name}"] = time.perf_counter() - start
    results["reconstruction"] = reconstruction

    # (c) Tables 4-7
    start = time.perf_counter()
    reports = {}
    for name, model in models.items():
        model.to(device)
        for sample in (False, True) if args.probe_samples else (False,):
            train_codes, train_labels = encode_dataset(model.encoder, probe_train, device=device, sample=sample)
            test_codes, test_labels = encode_dataset(model.encoder, probe_test, device=device, sample=sample)
            reports[f"{name}, sampled" if sample else name] = encoder_report(
                train_codes, train_labels, test_codes, test_labels, dims=args.dims, num_classes=classes
            )
        model.cpu()
    results["encoders"] = reports
    seconds["encoder analysis"] = time.perf_counter() - start

    print("\n" + markdown(reconstruction, ["before", "after"], "Reconstruction distance on the val split"))
    print(format_tables(reports, labels=["artist", *CATEGORICAL]))

    # (d) stage 2 and transfers
    if args.stage2:
        start = time.perf_counter()
        print(f"\n== C2 pretraining, {args.c2_iterations} iterations")
        L.seed_everything(args.seed, verbose=False)
        e_artist = models["E_artist"]
        c2 = GADNClassifierPretrain(
            num_artists=args.num_artists,
            image_size=args.image_size,
            widths=list(e_artist.widths),
            fc_width=e_artist.fc_width,
            content_dim=e_artist.content_dim,
            style_dim=e_artist.style_dim,
            depth=args.depth,
            lr=args.c2_lr,
        )
        trainer = fit(c2, portraits(args, args.c2_iterations * args.batch_size), args.c2_iterations, args)
        c2_path = args.workdir / "c2.ckpt"
        trainer.save_checkpoint(c2_path)
        results["c2_val_accuracy"] = c2_accuracy(c2, portraits(args, args.val_size, "val"), device)
        seconds["c2 pretraining"] = time.perf_counter() - start

        start = time.perf_counter()
        print(f"\n== stage 2 from E_artist, {args.stage2} iterations")
        L.seed_everything(args.seed, verbose=False)
        stage2 = GADNStage2(
            num_artists=args.num_artists,
            image_size=args.image_size,
            stage1_checkpoint=str(checkpoints["E_artist"]),
            classifier_checkpoint=str(c2_path),
            lr=args.stage2_lr,
            lr_style=args.stage2_lr_style,
            ema_decay=args.ema_decay,
        )
        trainer = fit(stage2, portraits(args, args.stage2 * args.batch_size), 2 * args.stage2, args)
        trainer.save_checkpoint(args.workdir / "stage2.ckpt")  # for examples/gadn/draw_grids.py
        seconds["stage 2"] = time.perf_counter() - start

        start = time.perf_counter()
        oracle = load_oracle(args.num_artists, args.image_size, args.seed, steps=args.oracle_steps).to(device)
        results["oracle"] = oracle.metrics
        candidates: dict[str, tuple[nn.Module, nn.Module, nn.Module]] = {
            "untrained": (untrained.encoder, untrained.generator, untrained.style_bank),
            "stage 1": (e_artist.encoder, e_artist.generator, e_artist.style_bank),
            "stage 2": (stage2.encoder, stage2.generator, stage2.style_bank),
        }
        if stage2.generator_ema is not None:
            candidates["stage 2 EMA"] = (stage2.encoder, stage2.generator_ema.network, stage2.style_bank)
        test = portraits(args, args.transfer_items, "test")
        transfers = {}
        for name, (encoder, generator, style_bank) in candidates.items():
            for module in (encoder, generator, style_bank):
                module.to(device)
            transfers[name] = evaluate_transfers(
                encoder, generator, style_bank, test, oracle, num_items=args.transfer_items, seed=args.seed
            )
            for module in (encoder, generator, style_bank):
                module.cpu()
        results["transfers"] = transfers
        seconds["transfers"] = time.perf_counter() - start
        print(f"\noracle held-out artist accuracy: {oracle.metrics.get('acc_artist', float('nan')):.4f}")
        print(f"C2 val accuracy after pretraining: {results['c2_val_accuracy']:.4f}\n")
        columns = [
            "oracle_target_accuracy",
            "oracle_source_accuracy",
            "oracle_truth_accuracy",
            "true_render_distance",
            "identity_distance",
        ]
        print(markdown(transfers, columns, f"Transfers of {args.transfer_items} test portraits to another artist"))
        print(f"(uniform chance of the oracle: {1 / args.num_artists:.4f})")

    results["seconds"] = seconds
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))
    print("\ntime (s): " + ", ".join(f"{k} {v:.1f}" for k, v in seconds.items()))
    print(f"results written to {args.out}")
    return results


if __name__ == "__main__":
    main()
