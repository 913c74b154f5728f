"""The plugin's dependency check names what is missing and the command that installs it."""

from __future__ import annotations

from sarclip_qgis import deps


def test_everything_imports_here():
    assert deps.missing_dependencies() == []


def test_missing_module_is_reported_with_an_install_command(monkeypatch):
    monkeypatch.setattr(deps, "REQUIREMENTS", {"numpy": "numpy<2", "sarclip_no_such_module": "no-such-dist"})
    missing = deps.missing_dependencies()
    assert [m.module for m in missing] == ["sarclip_no_such_module"]
    assert "ModuleNotFoundError" in missing[0].reason
    command = deps.install_command(missing, target="/home/me/.local/share/QGIS/python/deps")
    assert '-m pip install --target "/home/me/.local/share/QGIS/python/deps" "no-such-dist" "numpy<2"' in command
    assert "python3" in command
