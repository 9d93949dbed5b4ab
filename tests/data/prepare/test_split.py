from animestyle.data.prepare.split import manifest_rows


def _entry(key: str, faces: int, artist: str = "a") -> dict:
    face = {"path": "", "box": [0, 0, 1, 1], "eye_left": [0, 0], "eye_right": [1, 0], "likelihood": 1.0, "angle": 0.0}
    return {
        "key": key,
        "artist": artist,
        "source": key,
        "faces": [face | {"path": f"{key}_{k}.png"} for k in range(faces)],
    }


def _splits(rows: list[dict]) -> dict[str, str]:
    return {row["path"].rsplit("_", 1)[0]: row["split"] for row in rows}


def test_one_crowded_illustration_cannot_take_every_crop() -> None:
    rows = manifest_rows([_entry("crowd", 60)], {}, min_images=50, val_fraction=0.1, min_val=5)
    assert {row["split"] for row in rows} == {"train"}
    rows = manifest_rows([_entry("crowd", 60), _entry("single", 1)], {}, min_images=50, val_fraction=0.1, min_val=5)
    assert sum(row["split"] == "train" for row in rows) >= 1


def test_val_membership_is_stable_when_illustrations_are_added() -> None:
    first = [_entry(f"p{k}", 1) for k in range(200)]
    more = first + [_entry(f"q{k}", 1) for k in range(200)]
    before = _splits(manifest_rows(first, {}, min_images=1, val_fraction=0.1, min_val=5))
    after = _splits(manifest_rows(more, {}, min_images=1, val_fraction=0.1, min_val=5))
    assert all(after[key] == split for key, split in before.items())
    assert 0.05 < sum(s == "val" for s in after.values()) / len(after) < 0.15


def test_min_val_tops_up_and_artists_below_min_images_are_dropped() -> None:
    entries = [_entry(f"x{k}", 1) for k in range(12)] + [_entry(f"y{k}", 1, artist="b") for k in range(3)]
    rows = manifest_rows(entries, {"x0": ("smile",)}, min_images=10, val_fraction=0.0, min_val=5)
    assert {row["artist"] for row in rows} == {"a"}
    assert sum(row["split"] == "val" for row in rows) == 5
    assert next(row for row in rows if row["path"] == "x0_0.png")["tags"] == "smile"
