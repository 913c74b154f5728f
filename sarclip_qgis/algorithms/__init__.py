"""Processing provider and algorithms (named `algorithms`, not `processing`, to keep QGIS's module visible)."""

from .provider import SarclipProvider

__all__ = ["SarclipProvider"]
