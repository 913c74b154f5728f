"""The plugin's dependency check names what is missing and the command that installs the inference-only set."""

from __future__ import annotations

import re

from sarclip_qgis import deps


def test_everything_imports_here():
    assert deps.missing_dependencies() == []


def _distributions(path) -> set[str]:
    lines = (line.split("#")[0].strip() for line in path.read_text(encoding="utf-8").splitlines())
    return {re.split(r"[<>=!~; \[]", line)[0].lower() for line in lines if line}


def test_install_command_installs_the_inference_only_requirements(monkeypatch):
    monkeypatch.setattr(deps, "REQUIREMENTS", {"numpy": "numpy", "sarclip_no_such_module": "no-such-dist"})
    missing = deps.missing_dependencies()
    assert [m.module for m in missing] == ["sarclip_no_such_module"]
    assert "ModuleNotFoundError" in missing[0].reason
    command = deps.install_command(target="/home/me/.local/share/QGIS/python/deps")
    assert command.endswith(f'-m pip install --prefix "/home/me/.local/share/QGIS/python/deps" '
                            f'-r "{deps.REQUIREMENTS_FILE}"')
    assert "python3" in command and "torch" not in command
    assert "SARCLIP needs sarclip_no_such_module" in deps.explain(missing)


def test_requirements_file_is_the_inference_set_without_pytorch():
    listed = _distributions(deps.REQUIREMENTS_FILE)
    assert set(deps.REQUIREMENTS.values()) <= listed  # everything the check imports is installed by the button
    assert not listed & {"torch", "torchvision", "open_clip_torch", "timm"}
    assert "numpy<2" in deps.REQUIREMENTS_FILE.read_text(encoding="utf-8")
