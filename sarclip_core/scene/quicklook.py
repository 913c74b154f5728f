"""PNG quick-looks of output maps (a matplotlib Figure on its own Agg canvas): a colour bar for scores, a legend
for label maps."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import rasterio
from matplotlib.colors import ListedColormap
from matplotlib.patches import Patch
from rasterio.enums import Resampling

from ..errors import SarclipError
from ..figures import new_figure
from ..files import atomic_file
from .outputs import palette

MAX_SIDE = 1024  # pixels of the map drawn: a decimated read, so memory does not grow with the scene
MAX_TITLE = 90  # characters: a longer title (a pasted paragraph as the query) would outgrow the figure


def _read_preview(path: Path, categorical: bool) -> tuple[np.ndarray, tuple[float, float, float, float]]:
    with rasterio.open(path) as ds:
        step = max(1.0, max(ds.width, ds.height) / MAX_SIDE)
        shape = (max(1, round(ds.height / step)), max(1, round(ds.width / step)))
        data = ds.read(1, out_shape=shape, resampling=Resampling.nearest if categorical else Resampling.average,
                       masked=True)
        left, bottom, right, top = ds.bounds
    return data, (left, right, bottom, top)


def write_quicklook(raster: Path, png: Path, title: str, labels: Sequence[str] | None = None,
                    unit: str = "probability") -> Path:
    """Draw band 1 of `raster` into `png` (atomically): a colour bar, or a legend when `labels` name categories.

    Scores are drawn on the fixed 0..1 scale, never stretched to their own range: a map of something
    absent must look low, not show its noise as a hot spot.
    """
    data, extent = _read_preview(raster, labels is not None)
    figure, axes = new_figure((8, 6.5), dpi=100)
    if labels is None:
        image = axes.imshow(data.astype(float).filled(np.nan), cmap="viridis", vmin=0.0, vmax=1.0, extent=extent,
                            interpolation="nearest")
        figure.colorbar(image, ax=axes, shrink=0.8, label=unit)
    else:
        colours = palette(len(labels))
        cmap = ListedColormap([np.array(colours[i]) / 255 for i in range(len(labels) + 1)])
        axes.imshow(data.filled(0), cmap=cmap, vmin=-0.5, vmax=len(labels) + 0.5, extent=extent,
                    interpolation="nearest")
        axes.legend(handles=[Patch(color=np.array(colours[i + 1]) / 255, label=name) for i, name in enumerate(labels)],
                    loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
    axes.set_title(title if len(title) <= MAX_TITLE else title[:MAX_TITLE - 1] + "…", fontsize="medium")
    axes.tick_params(labelsize="x-small")
    try:
        with atomic_file(png) as temporary:
            figure.savefig(temporary, format="png", bbox_inches="tight")
    except OSError as error:
        raise SarclipError(f"{png}: cannot write the quick-look ({error.strerror or error})") from None
    return png
