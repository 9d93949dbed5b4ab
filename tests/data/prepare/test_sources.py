import json
from pathlib import Path

import pytest
from PIL import Image

from animestyle.data.prepare.sources import read_records


def _image(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (40, 40)).save(path)
    return path


def test_danbooru_api_json_lines(tmp_path: Path) -> None:
    images = tmp_path / "images"
    found = _image(images / "original" / "0123" / "5123.png")
    posts = [
        {"id": 5123, "file_ext": "png", "tag_string_artist": "kantoku", "tag_string_general": "1girl blush"},
        {"id": 77, "file_ext": "jpg", "tag_string_artist": "a b", "tag_string_general": ""},
    ]
    metadata = tmp_path / "posts.jsonl"
    metadata.write_text("\n".join(json.dumps(p) for p in posts) + "\n\n")
    first, second = read_records(images, metadata)
    assert (first.key, first.path, first.artists, first.tags) == ("5123", found, ("kantoku",), ("1girl", "blush"))
    assert first.origin == "posts.jsonl:1"
    assert first.problem is None
    assert second.artists == ("a", "b")
    assert second.path == images / "original" / "0077" / "77.jpg"  # where it would be; missing


def test_older_danbooru_dump_json_lines_and_512px_folder(tmp_path: Path) -> None:
    images = tmp_path / "images"
    found = _image(images / "512px" / "0042" / "1042.jpg")
    post = {
        "id": "1042",
        "file_ext": "png",
        "tags": [
            {"name": "someone", "category": "1"},
            {"name": "smile", "category": "0"},
            {"name": "touhou", "category": "3"},
        ],
    }
    metadata = tmp_path / "meta.jsonl"
    metadata.write_text(json.dumps(post) + "\n")
    (record,) = read_records(images, metadata)
    assert (record.path, record.artists, record.tags) == (found, ("someone",), ("smile",))


def test_csv(tmp_path: Path) -> None:
    images = tmp_path / "images"
    _image(images / "a" / "x.png")
    metadata = tmp_path / "list.csv"
    metadata.write_text("\ufeffpath,artist,tags\na/x.png,alice,smile blush\n,bob,\nb/y.png,,\na/x.png,carol,hat\n")
    first, empty, no_artist, again = read_records(images, metadata)  # a byte-order mark is fine
    # Listed twice, once per artist: one illustration by two artists (prepare skips it).
    assert (first.key, first.artists, first.tags) == ("a/x.png", ("alice", "carol"), ("smile", "blush", "hat"))
    assert empty.problem == "metadata row has no path"
    assert empty.origin == "list.csv:3"
    assert no_artist.artists == ()
    assert no_artist.problem is None
    assert (again.key, again.problem) == ("list.csv:5", "listed again in the metadata")


def test_malformed_fields_are_problems_not_crashes(tmp_path: Path) -> None:
    lines = [
        '{"id": 1, "tag_string_artist": null, "tag_string_general": "smile"}',
        '{"id": 2, "tags": ["smile", "blush"]}',
        '{"id": 3, "path": 5, "tag_string_artist": "a"}',
        '{"id": 4, "tag_string_artist": 7}',
    ]
    (tmp_path / "posts.jsonl").write_text("\n".join(lines) + "\n")
    records = read_records(tmp_path, tmp_path / "posts.jsonl")
    assert records[0].artists == ()  # null means none
    assert records[0].problem is None
    assert records[1].problem == "metadata line has malformed fields"
    assert records[2].path == tmp_path / "5"
    assert records[3].problem == "metadata line has malformed fields"


def test_a_folder_per_artist(tmp_path: Path) -> None:
    _image(tmp_path / "alice" / "1.png")
    _image(tmp_path / "bob" / "2.jpg")
    (tmp_path / "bob" / "notes.txt").write_text("not an image")
    records = read_records(tmp_path)
    assert [(r.key, r.artists) for r in records] == [("alice/1.png", ("alice",)), ("bob/2.jpg", ("bob",))]


def test_malformed_lines_are_kept_as_problems(tmp_path: Path) -> None:
    metadata = tmp_path / "posts.jsonl"
    metadata.write_text('{"id": 1, "tag_string_artist": "a"}\nnot json\n{"tag_string_artist": "b"}\n')
    records = read_records(tmp_path, metadata)
    assert [r.problem for r in records] == [None, "metadata line is not JSON", "metadata line has no id or path"]


def test_unusable_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"images='.*nowhere' is not a folder"):
        read_records(tmp_path / "nowhere")
    with pytest.raises(ValueError, match=r"metadata='.*missing\.csv' does not exist"):
        read_records(tmp_path, tmp_path / "missing.csv")
    (tmp_path / "meta.txt").write_text("")
    with pytest.raises(ValueError, match=r"use a \.jsonl \(Danbooru\) or \.csv"):
        read_records(tmp_path, tmp_path / "meta.txt")
    (tmp_path / "bad.csv").write_text("file,who\n")
    with pytest.raises(ValueError, match=r"bad.csv: the header lacks \['artist', 'path'\]"):
        read_records(tmp_path, tmp_path / "bad.csv")
