"""The sizes of the tiny style-space checkpoints (``tiny_metric``, ``tiny_classifier``,
``tiny_vae``), for the tests of ``animestyle.metrics.style_space`` and
``examples/style_space/synthetic_study.py``. The fixtures themselves are in ``tests/fixtures.py``
(registered by ``tests/conftest.py``: ``tests/tools`` uses them too)."""

from tests.fixtures import TINY_ARTISTS, TINY_CONTENT_DIM, TINY_STYLE_DIM

__all__ = ["TINY_ARTISTS", "TINY_CONTENT_DIM", "TINY_STYLE_DIM"]
