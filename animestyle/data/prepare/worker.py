"""The work on one illustration, and the processes that do it.

:func:`process` reads one illustration, finds its faces and writes their crops, and returns
the illustration's journal entry; it never raises (an unexpected error becomes the entry's
reason). :func:`run` feeds jobs to worker processes and survives a worker that dies (killed
for memory, a crash in the detector's C code): the jobs it was holding are tried once more,
then recorded as failed.
"""

from __future__ import annotations

import hashlib
import math
import multiprocessing
import re
import signal
import sys
import warnings
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image, ImageOps, UnidentifiedImageError

from animestyle.atomic import atomic_path
from animestyle.data.prepare.detect import detect_faces
from animestyle.data.prepare.geometry import crop_box, upright_crop
from animestyle.data.prepare.sources import Record

__all__ = ["Job", "Settings", "process", "run", "slug"]


@dataclass(frozen=True)
class Settings:
    """What the crops depend on; a rerun into the same folder must use the same."""

    size: int = 256
    scale: float = 1.9
    lift: float = 0.0
    threshold: float = 0.5
    detect_side: int = 512
    min_side: int = 32
    max_pixels: int = 50_000_000
    format: str = "png"  # or "webp" (lossless): about 1.6 times faster to decode


Job = tuple[Record, Settings, Path]  # an illustration, the settings, the output folder


def slug(text: str, limit: int = 60) -> str:
    """A file-name-safe, collision-free name for ``text``."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._")[:limit] or "x"
    return f"{safe}-{hashlib.sha1(text.encode()).hexdigest()[:8]}"


def _eight_bit(image: Image.Image) -> Image.Image:
    """``image`` as RGB or RGBA with 8 bits per channel."""
    if image.mode in ("RGB", "RGBA"):
        return image
    if image.mode.startswith(("I", "F")):  # 16/32-bit or float grey: scale to 8 bits, never clip
        wide = image.convert("F")
        extrema = wide.getextrema()  # (low, high) for a single-band image
        top = float(extrema[1]) if isinstance(extrema[1], (int, float)) else 0.0
        full = 1.0 if top <= 1.0 else 255.0 if top <= 255 else 65535.0 if top <= 65535 else 4294967295.0
        return wide.point(lambda v: v * 255.0 / full).convert("L").convert("RGB")
    has_alpha = image.mode in ("LA", "PA", "La") or (image.mode == "P" and "transparency" in image.info)
    return image.convert("RGBA" if has_alpha else "RGB")


def open_image(path: Path, settings: Settings) -> Image.Image | str:
    """The decoded, upright (EXIF), 8-bit RGB or RGBA image, or why it is unreadable."""
    if not path.is_file():
        return "missing file"
    limit, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, settings.max_pixels
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as opened:
                opened.load()
                image = ImageOps.exif_transpose(opened)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        return f"decompression bomb (over {settings.max_pixels:,} pixels)"
    except UnidentifiedImageError:
        return "not an image"
    except (OSError, SyntaxError, ValueError):
        return "corrupt image"
    finally:
        Image.MAX_IMAGE_PIXELS = limit  # Pillow's global, as the caller had it
    return _eight_bit(image)


def skip_reason(record: Record) -> str | None:
    """Why ``record`` is skipped without opening its image, or None."""
    if record.problem:
        return record.problem
    if len(record.artists) != 1:
        return "no artist tag" if not record.artists else f"{len(record.artists)} artist tags"
    return None


def process(job: Job) -> dict[str, Any]:
    """Prepare one illustration and return its journal entry. Never raises: an unexpected
    error on one illustration becomes its recorded reason, so one bad file cannot stop a run."""
    record, settings, out = job
    entry: dict[str, Any] = {"key": record.key, "source": str(record.path), "faces": []}
    try:
        return _crop_faces(record, settings, out, entry)
    except Exception as error:  # counted in the summary, with its type
        return entry | {"status": "unreadable", "reason": f"failed ({type(error).__name__})", "faces": []}


def _crop_faces(record: Record, settings: Settings, out: Path, entry: dict[str, Any]) -> dict[str, Any]:
    reason = skip_reason(record)
    if reason:
        return entry | {"status": "skipped", "reason": reason}
    image = open_image(record.path, settings)
    if isinstance(image, str):
        return entry | {"status": "unreadable", "reason": image}
    if min(image.size) < settings.min_side:
        return entry | {"status": "skipped", "reason": f"smaller than {settings.min_side} px"}
    entry |= {"status": "read", "artist": record.artists[0]}
    folder = out / "crops" / slug(record.artists[0])
    for k, face in enumerate(detect_faces(image, settings.threshold, settings.detect_side)):
        box = crop_box(face.eye_left, face.eye_right, face.box[2], settings.scale, settings.lift)
        crop = upright_crop(image, box, settings.size)
        path = folder / f"{slug(record.key)}_{k}.{settings.format}"
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as partial:  # a crop is whole or absent
            if settings.format == "webp":  # lossless; method 0 writes fastest and reads as fast as any
                crop.save(partial, format="WEBP", lossless=True, method=0)
            else:
                crop.save(partial, format="PNG")
        entry["faces"].append(
            {
                "path": path.relative_to(out).as_posix(),
                "box": [round(v, 2) for v in face.box],
                "eye_left": [round(v, 2) for v in face.eye_left],
                "eye_right": [round(v, 2) for v in face.eye_right],
                "likelihood": round(face.likelihood, 4),
                "angle": round(math.degrees(box.angle), 2),
            }
        )
    return entry


def _ignore_interrupts() -> None:
    """Workers leave Ctrl-C to the main process, which stops handing out work."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _pool(workers: int) -> ProcessPoolExecutor:
    if sys.platform == "win32":
        context = multiprocessing.get_context("spawn")
    else:  # forkserver: workers start from a clean server that imported the pipeline once
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload([__name__])
    return ProcessPoolExecutor(workers, mp_context=context, initializer=_ignore_interrupts)


def _nothing() -> None:
    """A task that only proves a worker process can start."""


def _died(job: Job) -> dict[str, Any]:
    record = job[0]
    return {"key": record.key, "source": str(record.path), "faces": [], "status": "unreadable"} | {
        "reason": "failed (worker process died)"
    }


def _alone(job: Job, task: Callable[[Job], dict[str, Any]]) -> dict[str, Any]:
    """``job`` in a pool of its own: its entry, or a failure if its worker died."""
    with _pool(1) as pool:
        try:
            return pool.submit(task, job).result()
        except BrokenProcessPool:
            return _died(job)


def run(jobs: list[Job], workers: int, task: Callable[[Job], dict[str, Any]] = process) -> Iterator[dict[str, Any]]:
    """Journal entries of ``jobs``, in completion order, computed by ``task`` in ``workers``
    processes (in this one for a single worker).

    When a worker dies, the pool breaks: the jobs it held are each run again alone, so only
    the one that kills its worker is recorded as failed. RuntimeError if worker processes
    cannot start at all.
    """
    if workers == 1:
        yield from map(task, jobs)
        return
    queue = deque(jobs)
    while queue:
        running: dict[Future[dict[str, Any]], Job] = {}
        pool = _pool(workers)
        try:
            while queue or running:
                while queue and len(running) < 2 * workers:  # a small window: a break costs little
                    job = queue.popleft()
                    running[pool.submit(task, job)] = job
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    if isinstance(future.exception(), BrokenProcessPool):
                        raise BrokenProcessPool
                    running.pop(future)
                    yield future.result()
        except BrokenProcessPool:
            suspects = list(running.values())
            with _pool(1) as probe:
                try:
                    probe.submit(_nothing).result()
                except BrokenProcessPool:
                    raise RuntimeError(
                        "worker processes cannot start; run prepare from a script file, the command line or a "
                        "notebook (not from standard input), or with workers=1"
                    ) from None
            for job in suspects:
                yield _alone(job, task)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
