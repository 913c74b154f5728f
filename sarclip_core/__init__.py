"""SARCLIP engine: SAR raster I/O, captions, model, training, evaluation and scene inference.

Plain Python (no Qt, no QGIS): the QGIS plugin and the command-line tools both drive it.
"""

__version__ = "0.1.0"
