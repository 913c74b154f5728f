"""Check that the engine's inference dependencies import in the Python QGIS runs, and say how to fix it.

The plugin runs the scene engine on ONNX Runtime (the bundled model's ONNX export), so what it needs is
requirements-qgis.txt (about 80 MB), not PyTorch; with PyTorch installed too, the engine uses it.
"""

from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass
from pathlib import Path

from . import paths

# module name -> its distribution: what the engine's inference path imports beyond the standard library, all of
# it pinned in requirements-qgis.txt (numpy stays < 2: QGIS, GDAL and rasterio are built against 1.x)
REQUIREMENTS = {
    "numpy": "numpy",
    "rasterio": "rasterio",
    "onnxruntime": "onnxruntime",
    "regex": "regex",
    "ftfy": "ftfy",
    "sklearn": "scikit-learn",
    "scipy": "scipy",
    "matplotlib": "matplotlib",
}
REQUIREMENTS_FILE = paths.bundle_root() / "requirements-qgis.txt"


@dataclass(frozen=True)
class Missing:
    """A Python package the engine needs that is not installed: its module and pip requirement."""
    module: str
    requirement: str
    reason: str


def missing_dependencies() -> list[Missing]:
    """Modules that do not import (or import in an unusable version), with the reason."""
    missing = []
    for module, requirement in REQUIREMENTS.items():
        try:
            imported = importlib.import_module(module)
        except Exception as exc:  # any import failure means the engine cannot run
            missing.append(Missing(module, requirement, f"{type(exc).__name__}: {exc}"))
            continue
        if module == "numpy" and int(imported.__version__.split(".")[0]) >= 2:
            missing.append(Missing(module, requirement, f"numpy {imported.__version__} breaks QGIS's GDAL"))
    return missing


def qgis_python() -> str:
    """The interpreter behind the running Python (inside QGIS sys.executable is QGIS itself): where its install
    layout keeps it under sys.exec_prefix (Linux and macOS: bin/python3.X; Windows, OSGeo4W or the standalone
    installer: python.exe), else the `python3` (Windows: `python`) on the PATH."""
    prefix, version = Path(sys.exec_prefix), f"{sys.version_info.major}.{sys.version_info.minor}"
    candidates = [prefix / "bin" / f"python{version}", prefix / "bin" / "python3", prefix / "python.exe",
                  prefix / "python3.exe"]
    found = next((candidate for candidate in candidates if candidate.is_file()), None)
    return str(found) if found else ("python" if sys.platform == "win32" else "python3")


def install_args(target: str | None = None, python: str | None = None) -> list[str]:
    """The pip run for the Python this QGIS runs, as arguments (run without a shell, so no path is re-parsed):
    the plugin's inference-only requirements file (shipped with it) into a folder (`--prefix`, which
    paths.add_engine_paths puts on sys.path), else --user.

    --prefix rather than --target: pip then installs only what QGIS's Python lacks (on Debian 12 about 140 MB),
    where --target would add its own numpy, scipy, matplotlib and rasterio beside QGIS's (570 MB).
    """
    where = ["--prefix", target] if target else ["--user"]
    return [python or qgis_python(), "-m", "pip", "install", *where, "-r", str(REQUIREMENTS_FILE)]


def install_command(target: str | None = None, python: str | None = None) -> str:
    """install_args as a command line to show and to paste into a terminal (paths in double quotes, which both
    a POSIX shell and Windows' cmd.exe read)."""
    args = install_args(target, python)
    quoted = {0, len(args) - 1} | ({args.index("--prefix") + 1} if target else set())
    return " ".join(f'"{arg}"' if i in quoted else arg for i, arg in enumerate(args))


def explain(missing: list[Missing], detail: str = "", target: str | None = None) -> str:
    """What to tell a person whose QGIS cannot run the engine: what is missing and the command to fix it."""
    if not missing:
        return f"the SARCLIP engine failed to import: {detail}"
    names = ", ".join(m.module for m in missing)
    return (f"SARCLIP needs {names} in the Python that QGIS runs (Python {sys.version.split()[0]}). "
            f"Install with: {install_command(target)} and restart QGIS.")
