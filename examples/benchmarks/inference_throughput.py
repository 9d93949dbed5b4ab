"""Inference throughput: images/s of ``animestyle.load(...).transfer`` (``edit`` for the
attribute editor) for every method, at batch 1 and 32, at 64 and 256 px.

    python examples/benchmarks/inference_throughput.py                       # every method, 64 and 256 px
    python examples/benchmarks/inference_throughput.py --sizes 64 --batches 1 --methods gadn-stage1 nst-encoder

Each model is built untrained at the size's default widths (8 artists), saved as a checkpoint
the way ``animestyle fit`` saves one, and loaded back with ``animestyle.load``, so the figures
are those of the interface a user calls (tensors in and out, no image files). Untrained and
trained weights cost the same. The first call of each configuration is not timed; then calls
repeat until at least ``--seconds`` seconds and ``--calls`` calls are timed. On a CPU it runs
in fp32; with a CUDA device also under fp16 and bf16 autocast.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from _common import bare_trainer, device_line

ARTISTS = 8
ATTRIBUTES = ["smile", "blush", "open_mouth", "long_hair", "pink_hair", "blue_eyes"]
METHODS = ("gadn-stage1", "gadn-stage2", "style-vae", "style-gan", "nst-dual", "nst-encoder", "editor")


def _save(module: Any, path: Path) -> Path:
    """``module`` saved as ``animestyle fit`` would save it (with its ``animestyle`` record)."""
    trainer = bare_trainer("32-true", str(path.parent))
    trainer.strategy.connect(module)
    trainer.save_checkpoint(path)
    return path


def checkpoint(method: str, size: int, folder: Path) -> Path:
    """An untrained checkpoint of ``method`` at ``size`` (and the earlier stages it reads)."""
    from animestyle.methods import (
        AttributeEditor,
        DualDiscriminatorNST,
        EncoderDiscriminatorNST,
        GADNStage1,
        GADNStage2,
        MetricStyleEncoder,
        StyleConditionedVAE,
        StyleContentGAN,
    )

    def earlier(name: str, make: Callable[[], Any]) -> str:
        path = folder / f"{name}.ckpt"
        return str(path if path.exists() else _save(make(), path))

    if method == "gadn-stage1":
        return _save(GADNStage1(ARTISTS, size), folder / f"{method}.ckpt")
    if method == "gadn-stage2":
        stage1 = earlier("gadn-stage1", lambda: GADNStage1(ARTISTS, size))
        return _save(GADNStage2(ARTISTS, size, stage1_checkpoint=stage1), folder / f"{method}.ckpt")
    if method in ("style-vae", "style-gan"):
        style = earlier("style-metric", lambda: MetricStyleEncoder(ARTISTS, size))
        content = earlier("style-vae", lambda: StyleConditionedVAE(ARTISTS, size, style_checkpoint=style))
        if method == "style-vae":
            return Path(content)
        gan = StyleContentGAN(ARTISTS, size, style_checkpoint=style, content_checkpoint=content, statistics_batches=1)
        return _save(gan, folder / f"{method}.ckpt")
    if method == "nst-dual":
        return _save(DualDiscriminatorNST(ARTISTS, size), folder / f"{method}.ckpt")
    if method == "nst-encoder":
        return _save(EncoderDiscriminatorNST(ARTISTS, size), folder / f"{method}.ckpt")
    return _save(AttributeEditor(attribute_names=ATTRIBUTES, image_size=size), folder / f"{method}.ckpt")


def operation(model: Any) -> tuple[str, Callable[[torch.Tensor], Any]]:
    """The call to time on a batch: transfer by artist or by reference, or an edit."""
    ops = model.operations()
    if "transfer(images, artist=...)" in ops:
        return "transfer(artist=1)", lambda x: model.transfer(x, artist=1, batch_size=len(x))
    if "transfer(images, reference=...)" in ops:
        return "transfer(reference)", lambda x: model.transfer(x, reference=x[:1], batch_size=len(x))
    return "edit(smile=True)", lambda x: model.edit(x, smile=True, batch_size=len(x))


def measure(call: Callable[[torch.Tensor], Any], x: torch.Tensor, seconds: float, calls: int) -> float:
    """Images/s of ``call(x)`` after one untimed call."""
    call(x)
    done, start = 0, time.perf_counter()
    while True:
        call(x)
        done += 1
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        elapsed = time.perf_counter() - start
        if done >= calls and elapsed >= seconds:
            return done * len(x) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[64, 256])
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 32])
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--seconds", type=float, default=2.0, help="timed seconds, at least")
    parser.add_argument("--calls", type=int, default=2, help="timed calls, at least")
    args = parser.parse_args()

    import animestyle

    warnings.filterwarnings("ignore")
    torch.manual_seed(0)
    cuda = torch.cuda.is_available()
    precisions = ["fp32", "fp16", "bf16"] if cuda else ["fp32"]
    print(device_line())
    print(f"threads: {torch.get_num_threads()}; {ARTISTS} artists, untrained weights, tensors in and out\n")
    print("| method | call | size | batch | precision | images/s |")
    print("|---|---|--:|--:|---|--:|", flush=True)
    with tempfile.TemporaryDirectory(prefix="inference_benchmark_") as root:
        for size in args.sizes:
            folder = Path(root) / str(size)
            folder.mkdir()
            for method in args.methods:
                model = animestyle.load(checkpoint(method, size, folder), device="cuda" if cuda else "cpu")
                name, call = operation(model)
                for batch in args.batches:
                    x = torch.rand(batch, len(model.channels), size, size, device=model.device) * 2 - 1
                    for precision in precisions:
                        dtype = {"fp16": torch.float16, "bf16": torch.bfloat16}.get(precision)
                        with torch.autocast("cuda", dtype=dtype or torch.float32, enabled=dtype is not None):
                            rate = measure(call, x, args.seconds, args.calls)
                        print(f"| {method} | {name} | {size} | {batch} | {precision} | {rate:.1f} |", flush=True)


if __name__ == "__main__":
    main()
