"""``animestyle.atomic``: a file is replaced whole when its block ends, and left as it was when
the block fails, with no temporary file behind either way."""

from __future__ import annotations

from pathlib import Path

import pytest

from animestyle.atomic import atomic_path, write_text_atomic


def test_a_finished_block_replaces_the_file_whole(tmp_path: Path) -> None:
    target = tmp_path / "table.json"
    target.write_text("old")
    with atomic_path(target) as partial:
        partial.write_text("new")
        assert target.read_text() == "old"  # nothing shows until the block ends
        assert partial.parent == tmp_path
        assert partial != target
    assert target.read_text() == "new"
    assert write_text_atomic(target, "newer") == target
    assert target.read_text() == "newer"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["table.json"]


def test_a_failed_block_leaves_the_file_as_it_was(tmp_path: Path) -> None:
    target = tmp_path / "manifest.csv"
    target.write_text("kept")

    def killed_mid_write() -> None:
        with atomic_path(target) as partial:
            partial.write_text("half")
            raise RuntimeError("killed mid-write")

    with pytest.raises(RuntimeError, match="killed"):
        killed_mid_write()
    assert target.read_text() == "kept"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["manifest.csv"]
