"""GADN training throughput: images/s, peak memory and FLOPs of stage 1 and stage 2, alone or
side by side with the official code.

    python examples/benchmarks/gadn_throughput.py                       # ours: 64 and 256 px, batch 8
    python examples/benchmarks/gadn_throughput.py --sizes 64 --stages 1 --channels-last
    python examples/benchmarks/gadn_throughput.py --official ~/adversarial-disentangle --sizes 64
    python examples/benchmarks/gadn_throughput.py --networks --official ~/adversarial-disentangle

Each configuration runs in its own process (so that peak memory is its own) on the synthetic
portraits (RGBA, 100 artists) with the official network preset for the size
(``gadn_preset``, reference depth unless ``--depth shallow``): ours through a real Lightning
``Trainer``. The first ``--warmup`` iterations are not timed; the last of them is counted by
``torch.utils.flop_counter`` (forward and backward, every network: the FLOPs of one whole
iteration); then ``--iterations`` iterations are timed (more while fewer than ``--seconds``
seconds are). On a CPU it runs in fp32; with a CUDA device in fp32 and bf16-mixed.

``--official PATH`` also times a local checkout of the official code
(github.com/stormraiser/adversarial-disentangle; fetch it yourself, it is not part of
animestyle) on the same images, written to a temporary ImageFolder as 8-bit RGBA PNGs, with
the same batch, size and stage, in fp32 (it has no mixed precision). Its trainers are
imported from PATH and stepped with their own ``train_one_iter``; only the writing of
sample pictures is switched off (its ``save_image`` call fails on current torchvision, and
pictures are not training). Stage 2 runs with ``--force_dis 0 --force_cla 0`` (one D and C2
step per G step, as ours) from an untrained stage 1 and untrained C2, with unit code
statistics written in place of its ``encode`` step. The two sides alternate for ``--rounds``
rounds; the table gives the min and median seconds per iteration of each, and their ratio.

``--networks`` prints the parameters and forward FLOPs (batch 1) of E, G, C1/C2 and D per
size and depth instead, next to the official networks' with ``--official``.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import lightning as L
import torch
from _common import (
    IterationClock,
    bare_trainer,
    benchmark_parser,
    child_result,
    peak_memory_gib,
    run_configurations,
    start,
    synthetic_data,
)
from torch.utils.flop_counter import FlopCounterMode

ARTISTS = 100


class IterationFlops(L.Callback):
    """Counts the FLOPs of training iteration ``index`` (0-based, by ``counter``)."""

    def __init__(self, index: int, counter: Callable[[], int]):
        self.index, self.counter, self.flops = index, counter, 0
        self.mode: FlopCounterMode | None = None

    def on_train_batch_start(self, *args: Any) -> None:
        if self.counter() == self.index and self.mode is None:
            self.mode = FlopCounterMode(display=False)
            self.mode.__enter__()

    def on_train_batch_end(self, *args: Any) -> None:
        if self.mode is not None and not self.flops and self.counter() > self.index:
            self.mode.__exit__(None, None, None)
            self.flops = self.mode.get_total_flops()


def ours(stage: int, size: int, batch: int, timing: tuple[int, int, float], precision: str, options: dict) -> dict:
    """Train ``warmup`` untimed iterations of one stage (FLOPs counted in the last), then time
    ``iterations`` (more while fewer than ``seconds`` seconds are timed)."""
    from animestyle.methods import GADNClassifierPretrain, GADNStage1, GADNStage2

    iterations, warmup, seconds = timing
    L.seed_everything(0, verbose=False)
    data = synthetic_data(size, batch, ARTISTS, channels="rgba")
    architecture = {"channels": "rgba", "depth": options["depth"]}
    speedups = {k: options[k] for k in ("channels_last", "compile", "fuse")}
    with tempfile.TemporaryDirectory(prefix="gadn_benchmark_") as root:
        folder = Path(root)
        model: L.LightningModule
        if stage == 1:
            model = GADNStage1(ARTISTS, size, **architecture, **speedups, c1_update=options["c1_update"])
        else:  # stage 2 starts from checkpoints: make untrained ones, as fast as possible
            for name, module in (
                ("stage1", GADNStage1(ARTISTS, size, **architecture)),
                ("c2", GADNClassifierPretrain(ARTISTS, size, **architecture)),
            ):
                trainer = bare_trainer("32-true", root)
                trainer.strategy.connect(module)
                trainer.save_checkpoint(folder / f"{name}.ckpt")
            model = GADNStage2(
                ARTISTS, size, channels="rgba", stage1_checkpoint=str(folder / "stage1.ckpt"),
                classifier_checkpoint=str(folder / "c2.ckpt"), **speedups,
            )  # fmt: skip
        counter = lambda: int(model.iteration)  # noqa: E731
        clock = IterationClock(warmup, iterations, seconds, counter=counter)
        flops = IterationFlops(warmup - 1, counter)
        bare_trainer(precision, root, [flops, clock]).fit(model, data)
    return {"side": "ours", **clock.figures(batch), "flops": flops.flops}


# --- the official code, imported from the user's checkout ----------------------------------


def official_options(path: Path, arguments: list[str]) -> Any:
    """The official ``main.py``'s options for ``arguments``: its parser and ``process_options``,
    run from PATH (``main.py`` itself would start training on import)."""
    source = (path / "main.py").read_text()
    names: dict[str, Any] = {"__name__": "official_main"}
    exec(compile(source[: source.index("options = process_options")], str(path / "main.py"), "exec"), names)
    return names["process_options"](names["parser"].parse_args(arguments))


def write_image_folder(root: Path, size: int, images: int) -> None:
    """``images`` synthetic portraits per artist as RGBA PNGs in ``root/<artist>/<i>.png``."""
    from animestyle.data import SyntheticPortraits

    portraits = SyntheticPortraits(length=ARTISTS * images, num_artists=ARTISTS, size=size)
    for i in range(len(portraits)):
        item = portraits[i]
        folder = root / f"artist_{int(item['artist']):03d}"
        folder.mkdir(parents=True, exist_ok=True)
        rgb = ((item["x"] + 1) * 127.5).round().clamp(0, 255).to(torch.uint8).permute(1, 2, 0).numpy()
        from PIL import Image

        Image.fromarray(rgb).convert("RGBA").save(folder / f"{i}.png")


def official(path: Path, stage: int, size: int, batch: int, timing: tuple[int, int, float]) -> dict:
    """Time the official trainer of ``stage`` as ``ours`` times ours."""
    iterations, warmup, seconds = timing
    sys.path.insert(0, str(path))
    import trainers  # the official code's package, from PATH

    for module in (trainers.stage1, trainers.stage2):  # pictures are not training
        module.save_image = lambda *args, **kwargs: None
    trainers.Stage1Trainer.visualize_fixed = lambda self: None
    trainers.Stage2Trainer.visualize_fixed = lambda self: None
    torch.manual_seed(0)
    never = ["--visualize_iter", "1000000000", "--save_iter", "1000000000", "--checkpoint_iter", "1000000000"]
    common = [*never, "--log_iter", "1000000000", "--device", "cpu", "--nloader", "1", "--batch_size", str(batch)]
    if torch.cuda.is_available():
        common[common.index("cpu")] = "cuda:0"
    with tempfile.TemporaryDirectory(prefix="gadn_official_") as root:
        data = Path(root) / "data"
        write_image_folder(data, size, images=8)
        stage1_arguments = ["stage1", "--data_root", str(data), "--image_size", str(size), *common]
        options = official_options(path, [*stage1_arguments, "--save_path", f"{root}/stage1"])
        trainer = trainers.Stage1Trainer(options)
        if stage == 2:
            trainer.save("0")
            codes, content = Path(root, "stage1", "codes"), options.content_size
            codes.mkdir()
            torch.save(torch.stack([torch.zeros(ARTISTS * 8, content), torch.ones(ARTISTS * 8, content)], 1),
                       codes / "0_codes.pt")  # fmt: skip
            ones, eye = torch.ones(content), torch.eye(content)
            stats = {"full_mean": ones * 0, "full_std": ones, "eigval": ones, "eigvec": eye, "dim_weight": ones}
            torch.save(stats, codes / "0_stats.pt")
            arguments = ["stage2", "--enc_path", f"{root}/stage1", "--enc_iter", "0", *common]
            arguments += ["--save_path", f"{root}/stage2", "--force_dis", "0", "--force_cla", "0"]
            # without a pretrained C2 (--cla_path) its stage 2 takes C2's structure from flags: the default's
            levels = len(options.enc_features) - 1
            arguments += ["--cla_features", *map(str, options.enc_features)]
            arguments += ["--cla_blocks", "cc", *["cbc"] * (levels - 1), "f"]
            arguments += ["--cla_adain_features", "-1", "--cla_adain_blocks", "-1"]
            trainer = trainers.Stage2Trainer(official_options(path, arguments))
        for _ in range(warmup - 1):
            trainer.train_one_iter()
        with FlopCounterMode(display=False) as counted:
            trainer.train_one_iter()
        if torch.cuda.is_available():
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
        timed, begin = 0, time.perf_counter()
        while timed < iterations or time.perf_counter() - begin < seconds:
            trainer.train_one_iter()
            timed += 1
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        elapsed = time.perf_counter() - begin
    return {
        "side": "official", "iterations": timed, "seconds": elapsed, "seconds_per_iteration": elapsed / timed,
        "images_per_second": timed * batch / elapsed, "peak_gib": peak_memory_gib(), "flops": counted.get_total_flops(),
    }  # fmt: skip


# --- the networks' size ----------------------------------------------------------------------


def network_row(size: int, side: str, name: str, network: torch.nn.Module, inputs: tuple) -> dict:
    """Parameters and forward FLOPs of ``network(*inputs)``."""
    with FlopCounterMode(display=False) as counted, torch.no_grad():
        network(*inputs)
    params = sum(t.numel() for t in network.parameters())
    return {"size": size, "side": side, "network": name, "params": params, "flops": counted.get_total_flops()}


def network_rows(sizes: list[int], depths: list[str], official_path: Path | None) -> list[dict]:
    """Parameters and forward FLOPs at batch 1 of each network (E, G, C1/C2, D)."""
    from animestyle.networks.gadn import Classifier, Encoder, Generator, gadn_preset

    rows = []
    for size in sizes:
        p = gadn_preset(size, ARTISTS)
        image, codes = torch.zeros(1, 4, size, size), (torch.zeros(1, p.content_dim), torch.zeros(1, p.style_dim))
        for depth in depths:
            nets = {
                "E": (Encoder(4, p.channels, p.fc_width, size, p.content_dim, depth), (image,)),  # type: ignore[arg-type]
                "G": (Generator(p.content_dim, p.style_dim, p.channels, p.fc_width, size, 3, depth), codes),  # type: ignore[arg-type]
                "C1/C2": (Classifier(4, p.channels, p.fc_width, size, ARTISTS, depth), (image,)),  # type: ignore[arg-type]
                "D": (Classifier(4, p.channels, p.fc_width, size, 1, depth), (image,)),  # type: ignore[arg-type]
            }
            rows += [network_row(size, f"ours ({depth})", name, net, inputs) for name, (net, inputs) in nets.items()]
        if official_path is not None:
            rows += official_network_rows(official_path, size, p)
    return rows


def official_network_rows(path: Path, size: int, p: Any) -> list[dict]:
    """The official default networks at ``size`` with our preset's code widths."""
    sys.path.insert(0, str(path))
    import models  # the official code's package, from PATH

    features = [*p.channels, p.fc_width]
    blocks = ["cc"] + ["cbc"] * (len(features) - 2) + ["f"]
    generator_blocks = ["tc"] + ["cbc"] * (len(features) - 2) + ["f"]
    codes_dims = (p.content_dim, p.style_dim)
    image, codes = torch.zeros(1, 4, size, size), (torch.zeros(1, p.content_dim), torch.zeros(1, p.style_dim))
    discriminator = models.ClassifierOrDiscriminator(size, size, features, blocks, -1, -1, ARTISTS)
    discriminator.convert()
    nets = {
        "E": (models.Encoder(size, size, features, blocks, -1, -1, p.content_dim), (image,)),
        "G": (models.TwoPartNestedDropoutGenerator(size, size, features, generator_blocks, -1, -1, *codes_dims), codes),
        "C1/C2": (models.ClassifierOrDiscriminator(size, size, features, blocks, -1, -1, ARTISTS), (image,)),
        "D": (discriminator, (image,)),
    }
    return [network_row(size, "official", name, net, inputs) for name, (net, inputs) in nets.items()]


def print_networks(rows: list[dict]) -> None:
    print("| size | network | side | parameters | forward GFLOP | vs official |")
    print("|---:|---|---|---:|---:|---|")
    official = {(r["size"], r["network"]): r for r in rows if r["side"] == "official"}
    for r in rows:
        ref = official.get((r["size"], r["network"]))
        versus = "" if ref is None or r is ref else (
            f"params {r['params'] / ref['params']:.4f}, FLOPs {r['flops'] / ref['flops']:.4f}"
        )  # fmt: skip
        print(f"| {r['size']} | {r['network']} | {r['side']} | {r['params'] / 1e6:.2f} M | {r['flops'] / 1e9:.3f} | "
              f"{versus} |")  # fmt: skip


# --- side by side ----------------------------------------------------------------------------


def side_by_side(args: Any, flags: list[str]) -> list[dict]:
    """``--rounds`` rounds of ours then the official code, per stage and size; a summary table."""
    timing = ["--iterations", str(args.iterations), "--warmup", str(args.warmup), "--seconds", str(args.seconds)]
    precision = (args.precision or ["32-true"])[0]  # ours; the official code has fp32 only
    results = []
    print("| stage | size | batch | side | s/iter min | s/iter median | images/s | peak GiB | GFLOP/iter |")
    print("|---:|---:|---:|---|---:|---:|---:|---:|---:|")
    for size in args.sizes:
        for stage in args.stages:
            runs: dict[str, list[dict]] = {"ours": [], "official": []}
            for _ in range(args.rounds):
                for side in runs:
                    name = f"{stage}" if side == "ours" else f"official-{stage}"
                    command = [sys.executable, __file__, "--one", f"{name},{size},{precision}", *flags, *timing]
                    runs[side].append(child_result(command, f"{side} stage {stage} at {size} px"))
            summary = {}
            for side, got in runs.items():
                per = [r["seconds_per_iteration"] for r in got]
                summary[side] = {
                    "stage": stage, "size": size, "batch": args.batch, "side": side, "min": min(per),
                    "median": statistics.median(per), "images_per_second": args.batch / statistics.median(per),
                    "peak_gib": max(r["peak_gib"] for r in got), "flops": got[0]["flops"], "runs": got,
                }  # fmt: skip
                s = summary[side]
                print(f"| {stage} | {size} | {args.batch} | {side} | {s['min']:.3f} | {s['median']:.3f} | "
                      f"{s['images_per_second']:.2f} | {s['peak_gib']:.2f} | {s['flops'] / 1e9:.1f} |")  # fmt: skip
            o, r = summary["ours"], summary["official"]
            print(
                f"| {stage} | {size} | | ours / official | | **{r['median'] / o['median']:.2f}x** faster "
                f"(min {r['min'] / o['min']:.2f}x) | | | FLOPs {o['flops'] / r['flops']:.3f} |",
                flush=True,
            )
            results += [o, r]
    return results


def main() -> None:
    parser = benchmark_parser(__doc__, sizes=[64, 256], batch=8, warmup=3, iterations_help="timed iterations")
    parser.add_argument("--stages", type=int, nargs="+", default=[1, 2], choices=[1, 2])
    parser.add_argument("--depth", default="reference", choices=["reference", "shallow"])
    parser.add_argument("--channels-last", action="store_true")
    parser.add_argument("--compile", action="store_true", help="torch.compile the networks")
    parser.add_argument("--fuse", action="store_true", help="one compiled kernel per block's activation and mix")
    parser.add_argument("--c1-update", default="first", choices=["first", "together"],
                        help="stage 1: 'together' is the official code's rule (one C1 pass: its FLOPs)")  # fmt: skip
    parser.add_argument("--official", type=Path, help="a local checkout of the official code: time it side by side")
    parser.add_argument("--rounds", type=int, default=3, help="with --official: rounds of both sides, alternating")
    parser.add_argument("--networks", action="store_true", help="print parameters and FLOPs per network, then exit")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    if args.warmup < 1:
        parser.error("--warmup must be at least 1: the last untimed iteration is the one whose FLOPs are counted")
    if args.official is not None and not (args.official / "trainers" / "stage1.py").is_file():
        parser.error(f"--official {args.official}: no trainers/stage1.py there; give a checkout of "
                     "github.com/stormraiser/adversarial-disentangle")  # fmt: skip
    warnings.filterwarnings("ignore")
    options = {k: getattr(args, k) for k in ("depth", "channels_last", "compile", "fuse", "c1_update")}
    timing = (args.iterations, args.warmup, args.seconds)

    def measure(name: str, size: int, precision: str) -> dict:
        if name.startswith("official-"):
            return official(args.official, int(name.split("-")[1]), size, args.batch, timing)
        result = ours(int(name), size, args.batch, timing, precision, options)
        return {"stage": int(name), "size": size, "batch": args.batch, "precision": precision, **result}

    if args.networks:
        print_networks(network_rows(args.sizes, ["reference", "shallow"], args.official))
        return
    columns = [("stage", 5), ("size", 5), ("batch", 5), ("precision", 11), ("s/iter", 8), ("images/s", 9)]
    header = " ".join(f"{name:>{width}}" for name, width in [*columns, ("peak GiB", 9), ("GFLOP/iter", 11)])
    if start(args, measure, header if args.official is None else f"torch {torch.__version__}; fp32 on both sides"):
        return
    flags = ["--batch", str(args.batch), "--depth", args.depth, "--c1-update", args.c1_update]
    flags += [f"--{k.replace('_', '-')}" for k in ("channels_last", "compile", "fuse") if options[k]]
    if args.official is not None:
        results = side_by_side(args, [*flags, "--official", str(args.official)])
    else:

        def row(size: int, stage: int, precision: str, r: dict) -> str:
            return (
                f"{stage:>5} {size:>5} {args.batch:>5} {precision:>11} {r['seconds_per_iteration']:>8.3f} "
                f"{r['images_per_second']:>9.1f} {r['peak_gib']:>9.2f} {r['flops'] / 1e9:>11.1f}"
            )

        results = run_configurations(__file__, args, args.stages, row, flags, kind="stage ")
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
