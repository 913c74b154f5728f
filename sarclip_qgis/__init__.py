"""SARCLIP QGIS plugin: a thin shell (dock panel, Processing provider) over sarclip_core.

QGIS imports this package and calls classFactory(iface). Nothing here imports torch or the engine,
so the plugin always loads; missing dependencies are reported in the panel and by the algorithms.
"""

from __future__ import annotations

from .paths import add_engine_paths

add_engine_paths()


def classFactory(iface):  # noqa: N802 - the name QGIS looks for
    """Entry point QGIS calls with its interface object."""
    from .plugin import SarclipPlugin

    return SarclipPlugin(iface)
