"""``import animestyle``: what it exports, that it loads lazily, and that the docs list it."""

import subprocess
import sys
from pathlib import Path

import lightning as L
import pytest

import animestyle

REPO = Path(__file__).resolve().parents[1]


def test_every_exported_name_resolves_and_nothing_else_is_offered() -> None:
    for name in animestyle.__all__:
        assert getattr(animestyle, name) is not None, name
    assert isinstance(animestyle.__version__, str)
    assert animestyle.__version__[0].isdigit()
    assert callable(animestyle.load)
    data = {"AnimeFacesDataModule", "SyntheticSource", "SyntheticPortraits"}
    for name in set(animestyle.__all__) - data - {"__version__", "load"}:  # the methods
        assert issubclass(getattr(animestyle, name), L.LightningModule), name
    with pytest.raises(AttributeError, match="no_such_name"):
        animestyle.no_such_name  # noqa: B018


def test_every_method_class_of_the_examples_is_exported() -> None:
    import yaml

    configs = [p for p in (REPO / "examples").rglob("*.yaml") if p.parent.name != "evaluate"]  # fit configs
    paths = {yaml.safe_load(p.read_text())["model"]["class_path"] for p in configs}
    methods = {p.rsplit(".", 1)[1] for p in paths if p.startswith("animestyle.methods.")}
    assert methods, paths
    assert methods <= set(animestyle.__all__), methods - set(animestyle.__all__)


def test_import_animestyle_does_not_import_torch() -> None:
    """``import animestyle`` (and prepare's worker processes, which import the package) start
    without torch and Lightning; the names load on first use."""
    code = "import sys, animestyle; print('torch' in sys.modules, 'lightning' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "False"]


def test_the_api_page_is_generated_from_all() -> None:
    sys.path.insert(0, str(REPO / "docs"))
    try:
        import hooks  # docs/hooks.py, the MkDocs hook
    finally:
        sys.path.remove(str(REPO / "docs"))
    page = hooks.on_page_markdown((REPO / "docs" / "api.md").read_text())
    for name in animestyle.__all__:
        if name != "__version__":
            assert f".{name}\n" in page + "\n", name
    assert "::: animestyle.inference.load" in page
