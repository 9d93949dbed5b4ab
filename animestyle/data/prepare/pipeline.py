"""``prepare``: raw illustrations + metadata -> upright face crops + a manifest.

Steps per illustration (in worker processes): keep it only with exactly one artist tag;
open it defensively (missing, corrupt, not an image, decompression bomb, too small are
counted, never fatal); find faces with AnimeFace 2009 on a downscaled copy; cut each face
as an upright RGBA square (see ``geometry``) and write it under a temporary name, then
rename it into place.

Output folder::

    out/
      crops/<artist>/<illustration>_<k>.png   the crops (RGBA, alpha 0 outside the picture)
      progress.jsonl                          one line per illustration done (the journal)
      settings.json                           the settings the crops were made with
      manifest.csv                            written once every illustration is done

A rerun reads the journal and continues where it stopped; crops have fixed names, so
nothing is ever duplicated. When all illustrations are done, artists with fewer than
``min_images`` crops are left out and the rest are split per artist into train and val by
illustration (two faces of one picture never straddle the split).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import multiprocessing
import os
import re
import sys
import warnings
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image, ImageOps, UnidentifiedImageError
from tqdm import tqdm

from animestyle.data.manifest import held_out, write_manifest
from animestyle.data.prepare.detect import detect_faces, require_detector
from animestyle.data.prepare.geometry import crop_box, upright_crop
from animestyle.data.prepare.sources import Record, read_records

__all__ = ["PrepareReport", "Settings", "prepare"]

# Share of readable illustrations without any face above which prepare warns loudly.
_NO_FACE_ALARM = 0.5


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


@dataclass
class PrepareReport:
    """What ``prepare`` did; ``str(report)`` is the summary it prints."""

    listed: int = 0
    resumed: int = 0
    read: int = 0
    unreadable: Counter[str] = dataclasses.field(default_factory=Counter)
    skipped: Counter[str] = dataclasses.field(default_factory=Counter)
    no_face: int = 0
    faces: int = 0
    crops_kept: int = 0
    artists_kept: int = 0
    artists_dropped: int = 0
    crops_dropped: int = 0
    splits: Counter[str] = dataclasses.field(default_factory=Counter)
    manifest: Path | None = None
    pending: int = 0  # illustrations left for a rerun (a limit or an interruption)

    @property
    def no_face_share(self) -> float:
        return self.no_face / self.read if self.read else 0.0

    def __str__(self) -> str:
        def reasons(counter: Counter[str]) -> str:
            return f" ({', '.join(f'{why}: {n:,}' for why, n in counter.most_common())})" if counter else ""

        lines = [
            f"illustrations listed: {self.listed:,} ({self.resumed:,} done by an earlier run)",
            f"  read: {self.read:,}",
            f"  unreadable: {sum(self.unreadable.values()):,}{reasons(self.unreadable)}",
            f"  skipped: {sum(self.skipped.values()):,}{reasons(self.skipped)}",
            f"  no face found: {self.no_face:,} of {self.read:,} read ({self.no_face_share:.0%})",
            f"  faces cropped: {self.faces:,}",
        ]
        if self.pending:
            lines.append(f"stopped with {self.pending:,} illustrations to go: run the same command again to continue")
        else:
            lines += [
                f"  artists kept: {self.artists_kept:,} ({self.crops_kept:,} crops: "
                f"{self.splits['train']:,} train, {self.splits['val']:,} val)",
                f"  artists dropped for too few crops: {self.artists_dropped:,} ({self.crops_dropped:,} crops)",
                f"manifest: {self.manifest}",
            ]
        return "\n".join(lines)


def _slug(text: str, limit: int = 60) -> str:
    """A file-name-safe, collision-free name for ``text``."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._")[:limit] or "x"
    return f"{safe}-{hashlib.sha1(text.encode()).hexdigest()[:8]}"


def _open(path: Path, settings: Settings) -> Image.Image | str:
    """The decoded image, or the reason it is unreadable."""
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
    if image.mode not in ("RGB", "RGBA"):
        has_alpha = image.mode in ("LA", "PA") or (image.mode == "P" and "transparency" in image.info)
        image = image.convert("RGBA" if has_alpha else "RGB")
    return image


def _process(job: tuple[Record, Settings, Path]) -> dict[str, Any]:
    """Prepare one illustration; returns its journal entry. Runs in a worker process.

    An unexpected error on one illustration is recorded as its reason, never raised: one bad
    file must not stop a run over a hundred thousand.
    """
    record, settings, out = job
    entry: dict[str, Any] = {"key": record.key, "source": str(record.path), "faces": []}
    try:
        return _crop_faces(record, settings, out, entry)
    except Exception as error:  # counted in the summary, with its type
        return entry | {"status": "unreadable", "reason": f"failed ({type(error).__name__})", "faces": []}


def _crop_faces(record: Record, settings: Settings, out: Path, entry: dict[str, Any]) -> dict[str, Any]:
    if record.problem:
        return entry | {"status": "skipped", "reason": record.problem}
    if len(record.artists) != 1:
        reason = "no artist tag" if not record.artists else f"{len(record.artists)} artist tags"
        return entry | {"status": "skipped", "reason": reason}
    image = _open(record.path, settings)
    if isinstance(image, str):
        return entry | {"status": "unreadable", "reason": image}
    if min(image.size) < settings.min_side:
        return entry | {"status": "skipped", "reason": f"smaller than {settings.min_side} px"}
    entry |= {"status": "read", "artist": record.artists[0], "tags": list(record.tags)}
    folder = out / "crops" / _slug(record.artists[0])
    for k, face in enumerate(detect_faces(image, settings.threshold, settings.detect_side)):
        box = crop_box(face.eye_left, face.eye_right, face.box[2], settings.scale, settings.lift)
        crop = upright_crop(image, box, settings.size)
        path = folder / f"{_slug(record.key)}_{k}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f"{path.name}.partial-{os.getpid()}")
        crop.save(partial, format="PNG")
        os.replace(partial, path)  # atomic: a crop is whole or absent
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


def _read_journal(path: Path) -> dict[str, dict[str, Any]]:
    done: dict[str, dict[str, Any]] = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut short by a crash: that illustration is simply redone
            done[entry["key"]] = entry
    return done


def _check_settings(out: Path, settings: Settings) -> None:
    path = out / "settings.json"
    wanted = dataclasses.asdict(settings)
    if path.exists():
        earlier = json.loads(path.read_text(encoding="utf-8"))
        changed = {k: (earlier.get(k), v) for k, v in wanted.items() if earlier.get(k) != v}
        if changed:
            described = ", ".join(f"{k}={old!r} then, {new!r} now" for k, (old, new) in changed.items())
            raise ValueError(f"out={str(out)!r} holds crops made with other settings ({described}); use a new folder")
    else:
        path.write_text(json.dumps(wanted, indent=2), encoding="utf-8")


def _run(jobs: list[tuple[Record, Settings, Path]], workers: int) -> Iterator[dict[str, Any]]:
    if workers == 1:
        yield from map(_process, jobs)
        return
    # fork starts workers at once (they inherit the imports); elsewhere spawn is the safe choice.
    method = "fork" if sys.platform.startswith("linux") else "spawn"
    with multiprocessing.get_context(method).Pool(workers) as pool:
        yield from pool.imap_unordered(_process, jobs, chunksize=2)


def _split(entries: list[dict[str, Any]], min_images: int, val_fraction: float, min_val: int) -> list[dict[str, Any]]:
    """Manifest rows of the artists with at least ``min_images`` crops, split per artist by
    illustration: whole illustrations go to val until it holds ``held_out`` crops."""
    by_artist: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for entry in entries:
        if entry.get("faces"):
            by_artist[entry["artist"]].append(entry)
    rows = []
    for artist in sorted(by_artist):
        illustrations = sorted(by_artist[artist], key=lambda e: hashlib.sha1(e["key"].encode()).hexdigest())
        total = sum(len(e["faces"]) for e in illustrations)
        if total < min_images:
            continue
        want_val, in_val = held_out(total, val_fraction, min_val), 0
        for entry in illustrations:
            split = "val" if in_val < want_val else "train"
            in_val += len(entry["faces"]) if split == "val" else 0
            for face in entry["faces"]:
                rows.append(_manifest_row(entry, face, split))
    return rows


def _manifest_row(entry: dict[str, Any], face: dict[str, Any], split: str) -> dict[str, Any]:
    x, y, w, h = face["box"]
    return {
        "path": face["path"],
        "artist": entry["artist"],
        "tags": " ".join(entry["tags"]),
        "split": split,
        "source": entry["source"],
        "face_x": x,
        "face_y": y,
        "face_w": w,
        "face_h": h,
        "eye_left_x": face["eye_left"][0],
        "eye_left_y": face["eye_left"][1],
        "eye_right_x": face["eye_right"][0],
        "eye_right_y": face["eye_right"][1],
        "likelihood": face["likelihood"],
        "angle": face["angle"],
    }


def prepare(
    images: str | Path,
    out: str | Path,
    metadata: str | Path | None = None,
    size: int = 256,
    scale: float = 1.9,
    threshold: float = 0.5,
    min_images: int = 50,
    val_fraction: float = 0.1,
    min_val: int = 5,
    workers: int | None = None,
    limit: int | None = None,
    detect_side: int = 512,
    max_pixels: int = 50_000_000,
    progress: bool = True,
) -> PrepareReport:
    """Make a training set of upright face crops from illustrations and their artist tags.

    Args:
        images: folder of illustrations (one subfolder per artist when there is no metadata).
        out: output folder (crops, journal, manifest.csv); rerun into it to continue.
        metadata: Danbooru JSON lines (``.jsonl``) or a CSV ``path,artist[,tags]``.
        size: side of the square crops in pixels.
        scale: crop side as a multiple of the detected face width (1.9: the whole head).
        threshold: smallest detector likelihood kept.
        min_images: artists with fewer crops are left out of the manifest.
        val_fraction: share of each artist's crops held out for validation ...
        min_val: ... but at least this many.
        workers: processes (default: all cores).
        limit: stop after this many illustrations (rerun to continue).
        detect_side: illustrations larger than this are searched for faces downscaled to it.
        max_pixels: larger images are refused as decompression bombs.
        progress: show a progress bar.

    Returns:
        The report; its text is also printed.
    """
    settings = Settings(size=size, scale=scale, threshold=threshold, detect_side=detect_side, max_pixels=max_pixels)
    for name, value, minimum in (("size", size, 8), ("min_images", min_images, 1), ("min_val", min_val, 0)):
        if not isinstance(value, int) or value < minimum:
            raise ValueError(f"{name}={value!r} must be an integer >= {minimum}")
    if not 0 <= val_fraction < 1:
        raise ValueError(f"val_fraction={val_fraction!r} must be in [0, 1)")
    if not scale > 0 or not 0 <= threshold <= 1:
        raise ValueError(f"scale={scale!r} must be > 0 and threshold={threshold!r} in [0, 1]")
    require_detector()  # fail now, with the reason, rather than in every worker
    records = read_records(images, metadata)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    _check_settings(out, settings)
    for stale in out.glob("crops/*/*.partial-*"):
        stale.unlink()  # crops a killed run was writing
    journal_path = out / "progress.jsonl"
    done = _read_journal(journal_path)
    todo = [r for r in records if r.key not in done]
    report = PrepareReport(listed=len(records), resumed=len(records) - len(todo))
    if limit is not None:
        todo, report.pending = todo[:limit], max(len(todo) - limit, 0)
    workers = workers or os.cpu_count() or 1
    jobs = [(record, settings, out) for record in todo]
    with journal_path.open("a", encoding="utf-8") as journal:
        try:
            bar = tqdm(_run(jobs, min(workers, max(len(jobs), 1))), total=len(jobs), disable=not progress, unit="img")
            for entry in bar:
                journal.write(json.dumps(entry) + "\n")
                journal.flush()
                done[entry["key"]] = entry
        except KeyboardInterrupt:
            report.pending += len([r for r in todo if r.key not in done])
        journal.flush()
        os.fsync(journal.fileno())
    entries = [done[r.key] for r in records if r.key in done]
    for entry in entries:
        if entry["status"] == "unreadable":
            report.unreadable[entry["reason"]] += 1
        elif entry["status"] == "skipped":
            report.skipped[entry["reason"]] += 1
        else:
            report.read += 1
            report.no_face += not entry["faces"]
            report.faces += len(entry["faces"])
    if not report.pending:
        rows = _split(entries, min_images, val_fraction, min_val)
        report.splits = Counter(row["split"] for row in rows)
        report.crops_kept = len(rows)
        kept = {row["artist"] for row in rows}
        artists = Counter(e["artist"] for e in entries for _ in e.get("faces", []))
        report.artists_kept, report.artists_dropped = len(kept), len(set(artists) - kept)
        report.crops_dropped = sum(n for a, n in artists.items() if a not in kept)
        report.manifest = write_manifest(out / "manifest.csv", rows)
    print(report)
    if report.read and report.no_face_share > _NO_FACE_ALARM:
        warnings.warn(
            f"no face was found in {report.no_face_share:.0%} of the readable illustrations. AnimeFace 2009 "
            "finds anime faces of about 40 px and up; check that the images are anime illustrations, try a "
            f"lower threshold (now {threshold}) or a larger detect_side (now {detect_side}).",
            stacklevel=2,
        )
    return report
