"""The face detector is an extra (``animestyle[prepare]``): without it, or with a Pillow it
cannot read, ``prepare`` says which command fixes it. These run whether or not animeface is
installed here."""

import sys
from importlib.metadata import requires
from pathlib import Path

import pytest
from PIL import Image

from animestyle.data.prepare import detect

INSTALL = r"pip install 'animestyle\[prepare\]'"


def test_the_detector_refuses_pillow_12_and_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(detect.PIL, "__version__", "12.0.0")
    with pytest.raises(RuntimeError, match=rf"finds no faces with Pillow 12\.0\.0.*{INSTALL}"):
        detect.detect_faces(Image.new("RGB", (64, 64)))


def test_without_animeface_the_error_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(detect.PIL, "__version__", "11.3.0")
    monkeypatch.setitem(sys.modules, "animeface", None)  # import animeface now raises ImportError
    with pytest.raises(RuntimeError, match=rf"needs the face detector \(animeface.*{INSTALL}"):
        detect.require_detector()


def test_the_command_without_animeface_says_how_to_install_it_in_one_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from animestyle.cli import main

    monkeypatch.setattr(detect.PIL, "__version__", "11.3.0")
    monkeypatch.setitem(sys.modules, "animeface", None)
    with pytest.raises(SystemExit, match=rf"animestyle prepare: error: .*{INSTALL}"):
        main(["prepare", str(tmp_path), str(tmp_path / "out")])


def test_installing_animestyle_pins_no_pillow_version() -> None:
    """Only the prepare extra caps Pillow (for animeface); a plain install takes any Pillow 10.1+."""
    requirements = requires("animestyle") or []
    core = [r for r in requirements if "extra ==" not in r]
    pillow = [r for r in core if r.lower().startswith("pillow")]
    assert pillow, core
    assert all("<" not in r for r in pillow), pillow
    extra = [r for r in requirements if r.lower().startswith("pillow") and 'extra == "prepare"' in r]
    assert len(extra) == 1, requirements
    assert "<12" in extra[0], requirements
    assert any(r.startswith("animeface") and 'extra == "prepare"' in r for r in requirements), requirements
