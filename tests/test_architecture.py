"""Architecture rules as tests: the engine never imports Qt or QGIS; the plugin uses only the engine's public API.

Checked statically (the import statements and importlib.import_module("...") calls of every file), so a
rule holds for code paths no other test runs. The engine's public API is what its top-level packages
export in __all__ (sarclip_core.scene, .model, .io, ...) and its top-level modules' names without a
leading underscore (sarclip_core.errors); deeper modules are the engine's own business.
"""

from __future__ import annotations

import ast

from paths import ROOT

ENGINE, PLUGIN = ROOT / "sarclip_core", ROOT / "sarclip_qgis"
QT_AND_QGIS = {"qgis", "PyQt5", "PyQt6", "PySide2", "PySide6", "sip"}


def imports(source: str) -> list[tuple[int, str, list[str]]]:
    """(line, absolute module, imported names) of every import in a Python source; [] names for a whole module."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module, [alias.name for alias in node.names]))
        elif (isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", None)) == "import_module"
              and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            found.append((node.lineno, node.args[0].value, []))
    return found


def public_names(module: str) -> set[str] | None:
    """The public names of an engine package (__all__) or top-level module (no leading underscore); None if the
    module is not part of the public API (deeper than sarclip_core.<name>, or underscore-prefixed)."""
    parts = module.split(".")
    if len(parts) > 2 or any(part.startswith("_") for part in parts):
        return None
    path = ENGINE.parent.joinpath(*parts)
    path = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "__all__" for t in node.targets):
            return set(ast.literal_eval(node.value))
    defined = {getattr(node, "name", None) for node in tree.body} | {
        t.id for node in tree.body if isinstance(node, ast.Assign) for t in node.targets if isinstance(t, ast.Name)}
    return {name for name in defined if name and not name.startswith("_")}


def private_uses(source: str) -> list[str]:
    """The plugin source's uses of the engine beyond its public API, as 'line: module.name'."""
    bad = []
    for line, module, names in imports(source):
        if module.split(".")[0] != "sarclip_core":
            continue
        public = public_names(module)
        if public is None:
            bad.append(f"{line}: {module}")
        else:
            bad += [f"{line}: {module}.{name}" for name in names if name not in public]
    return bad


def test_the_engine_never_imports_qt_or_qgis():
    found = [f"{path.relative_to(ROOT)}:{line}: {module}" for path in sorted(ENGINE.rglob("*.py"))
             for line, module, _ in imports(path.read_text(encoding="utf-8"))
             if module.split(".")[0] in QT_AND_QGIS]
    assert not found


def test_the_plugin_uses_only_the_engine_s_public_api():
    found = [f"{path.relative_to(ROOT)}:{use}" for path in sorted(PLUGIN.rglob("*.py"))
             for use in private_uses(path.read_text(encoding="utf-8"))]
    assert not found
    assert any("sarclip_core" in path.read_text(encoding="utf-8") for path in PLUGIN.rglob("*.py"))


def test_the_rules_catch_what_they_forbid():
    """The checks are not vacuous: a Qt import and private engine uses are found."""
    assert [m for _, m, _ in imports("from qgis.PyQt.QtCore import QTimer\nimport PyQt5")] == ["qgis.PyQt.QtCore", "PyQt5"]
    source = ("from sarclip_core.model.resolve import DEFAULT_CHECKPOINT\nfrom sarclip_core.model import _tensors\n"
              "import importlib\nimportlib.import_module('sarclip_core.scene.api')\n"
              "from sarclip_core.model import load_model\nfrom sarclip_core.errors import SarclipError\n")
    assert private_uses(source) == ["1: sarclip_core.model.resolve", "2: sarclip_core.model._tensors",
                                    "4: sarclip_core.scene.api"]
