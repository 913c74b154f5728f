"""Package attributes imported on first use, so a command line can check its inputs before PyTorch loads.

`python -m sarclip_core.scene` runs the package's __init__ first; if that imported the model code,
every bad flag or missing file would wait seconds for PyTorch before it is reported.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any, Callable


def lazy_attributes(package: str, sources: dict[str, str]) -> Callable[[str], Any]:
    """A module-level __getattr__ for `package` that imports each name from its relative module in `sources`."""
    def __getattr__(name: str) -> Any:
        if name not in sources:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(sources[name], package), name)
        setattr(import_module(package), name, value)  # later lookups find it directly
        return value

    return __getattr__
