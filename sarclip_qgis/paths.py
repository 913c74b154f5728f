"""Where the plugin finds the engine, its resources and user-installed dependencies.

Two layouts are supported: the source tree (sarclip_core/ next to sarclip_qgis/) and the plugin zip
(sarclip_core/ in the plugin's engine/ folder, which keeps the plugin's own modules off sys.path), so
the same code runs from git and from QGIS. The plugin's styles and icons are in its own resources/;
the engine's data (vocabulary, default model) is the engine's package data.
"""

from __future__ import annotations

import sys
import sysconfig
from pathlib import Path

PLUGIN_DIR = Path(__file__).resolve().parent
PLUGIN_NAME = PLUGIN_DIR.name


def bundle_root() -> Path:
    """The folder holding sarclip_core/: engine/ in the zip, else the repository root."""
    bundled = PLUGIN_DIR / "engine"
    return bundled if (bundled / "sarclip_core").is_dir() else PLUGIN_DIR.parent


RESOURCES = PLUGIN_DIR / "resources"
STYLES = RESOURCES / "styles"
ICONS = RESOURCES / "icons"


def dependencies_dir() -> Path:
    """Folder in the QGIS profile where the install button puts the engine's requirements (`pip --prefix`)."""
    from qgis.core import QgsApplication

    return Path(QgsApplication.qgisSettingsDirPath()) / "python" / "sarclip_dependencies"


def prefix_paths(prefix: Path) -> list[Path]:
    """Where `pip install --prefix PREFIX` puts packages for this Python: its install scheme's library folders
    under PREFIX (Debian: local/lib/python3.X/dist-packages; Windows: Lib/site-packages)."""
    scheme = sysconfig.get_paths(vars={"base": str(prefix), "platbase": str(prefix)})
    return list(dict.fromkeys(Path(scheme[name]) for name in ("purelib", "platlib")))


def add_engine_paths() -> None:
    """Make `import sarclip_core` find the bundled engine and the profile's installed dependencies."""
    root = str(bundle_root())
    if root not in sys.path:
        sys.path.insert(0, root)
    try:
        deps = dependencies_dir()
    except ImportError:  # outside QGIS (plain engine tests): nothing to add
        return
    for folder in [deps, *prefix_paths(deps)]:  # the folder itself: what earlier versions installed with --target
        if folder.is_dir() and str(folder) not in sys.path:
            sys.path.append(str(folder))


def style(name: str) -> str:
    """Path of a QML style shipped in resources/styles."""
    return str(STYLES / f"{name}.qml")


def help_page() -> Path:
    """The README (the plugin's help page): in the zip's engine/ folder, or at the repository root."""
    return bundle_root() / "README.md"


def icon(name: str = "sarclip.svg") -> str:
    """Path of an icon shipped in the plugin's resources/icons."""
    return str(ICONS / name)
