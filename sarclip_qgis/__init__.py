"""SARCLIP QGIS plugin: a thin shell (dock panel, Processing provider) over sarclip_core.

QGIS imports this package and calls classFactory(iface). Nothing here imports torch or the engine,
so the plugin always loads; missing dependencies are reported in the panel and by the algorithms.
"""

from __future__ import annotations

import sys

from .paths import add_engine_paths


def _keep_triton_out() -> None:
    """Make `import triton` fail inside QGIS. open_clip imports torch parts that load triton when it is
    installed, and triton's bundled LLVM crashes the QGIS desktop where Mesa's LLVM is already loaded
    (segfault in libtriton's static initialisers, seen under Xvfb/llvmpipe). CPU inference never uses it."""
    sys.modules.setdefault("triton", None)


_keep_triton_out()
add_engine_paths()


def classFactory(iface):  # noqa: N802 - the name QGIS looks for
    """Entry point QGIS calls with its interface object."""
    from .plugin import SarclipPlugin

    return SarclipPlugin(iface)
