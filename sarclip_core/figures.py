"""Figures for files (quick-looks, reports, loss curves) without pyplot and without choosing a backend.

The engine runs inside QGIS beside other plugins: `matplotlib.use` or pyplot's global figure manager
would change the host process. A `Figure` with its own Agg canvas draws to files and touches nothing else.
"""

from __future__ import annotations

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure


def new_figure(figsize: tuple[float, float], dpi: float = 100) -> tuple[Figure, Axes]:
    """A figure with one axes, drawn by its own Agg canvas (savefig writes PNG files)."""
    figure = Figure(figsize=figsize, dpi=dpi)
    FigureCanvasAgg(figure)
    return figure, figure.add_subplot()
