"""Where `prepare` finds illustrations and their artist and tags.

Three layouts are read:

- **Danbooru JSON lines** (``--metadata posts.jsonl``): one post per line, either in the
  Danbooru API's form (``tag_string_artist``, ``tag_string_general``, as in Danbooru2021 and
  later) or in the older Danbooru20xx dump form (``tags``: a list of ``{"name", "category"}``
  with category ``"1"`` for artists and ``"0"`` for general tags). The image of post ``id``
  with extension ``file_ext`` is looked up under the image folder as
  ``original/<id % 1000 as 4 digits>/<id>.<ext>``, ``512px/<bucket>/<id>.jpg``,
  ``<bucket>/<id>.<ext>``, ``<id>.<ext>``, or ``<md5>.<ext>``; a ``path`` field, if any,
  wins.
- **CSV** (``--metadata images.csv``): a header row with ``path`` and ``artist`` columns and an
  optional ``tags`` column (tags separated by spaces); several artists in one cell are
  separated by spaces too. Paths are relative to the image folder.
- **A folder per artist** (no metadata): ``<images>/<artist>/*.png|jpg|...``; no tags.
"""

from __future__ import annotations

import csv
import dataclasses
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

__all__ = ["IMAGE_SUFFIXES", "Record", "danbooru_tags", "read_records"]

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif", ".tif", ".tiff")


@dataclass(frozen=True)
class Record:
    """One illustration to prepare.

    Attributes:
        key: a stable, unique name of the illustration (its path relative to the image
            folder, or the post id), used to name its crops and to resume.
        path: where the image file should be; it may not exist.
        artists: artist tags (``prepare`` keeps exactly one).
        tags: general tags.
        origin: where the record came from, for messages (``posts.jsonl:12``).
        problem: why the record cannot be used (a malformed row, a repeated key), or None.
    """

    key: str
    path: Path
    artists: tuple[str, ...]
    tags: tuple[str, ...]
    origin: str
    problem: str | None = None


def danbooru_tags(post: dict) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(artist tags, general tags) of a Danbooru post in either JSON form; ValueError for
    fields of the wrong type."""
    if "tag_string_artist" in post or "tag_string_general" in post:
        artists, general = post.get("tag_string_artist") or "", post.get("tag_string_general") or ""
        if not isinstance(artists, str) or not isinstance(general, str):
            raise ValueError("tag_string_artist and tag_string_general must be strings")
        return tuple(artists.split()), tuple(general.split())
    tags = post.get("tags") or []
    if not isinstance(tags, list) or not all(
        isinstance(tag, dict) and isinstance(tag.get("name"), str) for tag in tags
    ):
        raise ValueError("tags must be a list of {name, category} objects")
    artists = tuple(tag["name"] for tag in tags if str(tag.get("category")) == "1")
    return artists, tuple(tag["name"] for tag in tags if str(tag.get("category")) == "0")


def _danbooru_path(post: dict, images: Path) -> Path:
    if post.get("path"):
        return images / str(post["path"])
    post_id, ext = str(post.get("id", "")), str(post.get("file_ext", "jpg"))
    bucket = f"{int(post_id) % 1000:04d}" if post_id.isdigit() else ""
    candidates = [
        images / "original" / bucket / f"{post_id}.{ext}",
        images / "512px" / bucket / f"{post_id}.jpg",
        images / bucket / f"{post_id}.{ext}",
        images / f"{post_id}.{ext}",
    ]
    if post.get("md5"):
        candidates.append(images / f"{post['md5']}.{ext}")
    return next((path for path in candidates if path.is_file()), candidates[0])


def _read_jsonl(metadata: Path, images: Path) -> Iterator[Record]:
    with metadata.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            origin = f"{metadata.name}:{number}"
            try:
                post = json.loads(line)
            except json.JSONDecodeError:
                yield Record(origin, metadata, (), (), origin, "metadata line is not JSON")
                continue
            if not isinstance(post, dict) or ("id" not in post and "path" not in post):
                yield Record(origin, metadata, (), (), origin, "metadata line has no id or path")
                continue
            try:
                artists, tags = danbooru_tags(post)
                path = _danbooru_path(post, images)
            except (ValueError, TypeError):
                yield Record(origin, metadata, (), (), origin, "metadata line has malformed fields")
                continue
            yield Record(str(post.get("id", post.get("path"))), path, artists, tags, origin)


def _read_csv(metadata: Path, images: Path) -> Iterator[Record]:
    with metadata.open(newline="", encoding="utf-8-sig") as file:  # -sig: Excel's byte-order mark
        reader = csv.DictReader(file)
        missing = {"path", "artist"} - set(reader.fieldnames or ())
        if missing:
            raise ValueError(f"{metadata.name}: the header lacks {sorted(missing)}; it needs path,artist[,tags]")
        for number, row in enumerate(reader, start=2):
            path = (row.get("path") or "").strip()
            if not path:
                origin = f"{metadata.name}:{number}"
                yield Record(origin, metadata, (), (), origin, "metadata row has no path")
                continue
            artists = tuple((row.get("artist") or "").split())
            yield Record(
                path, images / path, artists, tuple((row.get("tags") or "").split()), f"{metadata.name}:{number}"
            )


def _read_folders(images: Path) -> Iterator[Record]:
    for folder in sorted(p for p in images.iterdir() if p.is_dir()):
        for path in sorted(folder.iterdir()):
            if path.suffix.lower() in IMAGE_SUFFIXES:
                key = f"{folder.name}/{path.name}"
                yield Record(key, path, (folder.name,), (), key)


def read_records(images: str | Path, metadata: str | Path | None = None) -> list[Record]:
    """Every illustration described by ``metadata`` (JSON lines or CSV, by suffix), or, with
    no metadata, every image in a folder per artist under ``images``.

    An illustration listed on several rows is one record with the artists and tags of all of
    them (a picture listed once per artist thus has several artists); the later rows come
    back as records with their ``problem`` set, as do malformed rows, so that they are
    counted rather than stopping the run. Raises ValueError only when ``images`` or
    ``metadata`` themselves are unusable.
    """
    images = Path(images)
    if not images.is_dir():
        raise ValueError(f"images={str(images)!r} is not a folder")
    if metadata is None:
        records = list(_read_folders(images))
    else:
        metadata = Path(metadata)
        if not metadata.is_file():
            raise ValueError(f"metadata={str(metadata)!r} does not exist")
        if metadata.suffix.lower() in (".jsonl", ".json"):
            records = list(_read_jsonl(metadata, images))
        elif metadata.suffix.lower() == ".csv":
            records = list(_read_csv(metadata, images))
        else:
            raise ValueError(f"metadata={str(metadata)!r}: use a .jsonl (Danbooru) or .csv (path,artist[,tags]) file")
    first: dict[str, int] = {}
    for k, record in enumerate(records):
        if record.problem is not None:
            continue
        if record.key not in first:
            first[record.key] = k
            continue
        kept = records[first[record.key]]
        records[first[record.key]] = dataclasses.replace(
            kept,
            artists=kept.artists + tuple(a for a in record.artists if a not in kept.artists),
            tags=kept.tags + tuple(t for t in record.tags if t not in kept.tags),
        )
        records[k] = dataclasses.replace(record, key=record.origin, problem="listed again in the metadata")
    return records
