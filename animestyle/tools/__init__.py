"""The commands that train nothing, one file each, built on :mod:`animestyle.inference`:
``animestyle evaluate``, ``demo``, ``explore``, ``style-report``, ``edit``, ``edit-report``, ``transfer``,
``nst-report``, ``export`` and ``oracle``. Each is a plain function whose signature is its flags and
whose docstring is its ``--help`` (:mod:`animestyle.cli` dispatches to them).

Layers: the top floor but one; only :mod:`animestyle.cli` imports it.
"""

from animestyle.tools.demo import demo
from animestyle.tools.edit import edit
from animestyle.tools.edit_report import edit_report
from animestyle.tools.evaluate import evaluate
from animestyle.tools.explore import explore
from animestyle.tools.export import export
from animestyle.tools.nst_report import nst_report
from animestyle.tools.oracle import oracle
from animestyle.tools.style_report import style_report
from animestyle.tools.transfer import transfer

__all__ = [
    "demo",
    "edit",
    "edit_report",
    "evaluate",
    "explore",
    "export",
    "nst_report",
    "oracle",
    "style_report",
    "transfer",
]
