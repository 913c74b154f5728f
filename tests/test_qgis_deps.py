"""The plugin's dependency check names what is missing and the command that installs the inference-only set."""

from __future__ import annotations

import re
import sys

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


def test_the_interpreter_is_found_in_linux_and_windows_install_layouts(tmp_path, monkeypatch):
    """Inside QGIS sys.executable is QGIS itself, so pip must run the interpreter under sys.exec_prefix: bin/python3.X
    on Linux and macOS, python.exe at the top on Windows (OSGeo4W's apps/Python3X, the standalone installer)."""
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    linux, windows = tmp_path / "usr", tmp_path / "OSGeo4W" / "apps" / "Python312"
    (linux / "bin").mkdir(parents=True)
    (linux / "bin" / f"python{version}").write_bytes(b"")
    windows.mkdir(parents=True)
    (windows / "python.exe").write_bytes(b"")
    monkeypatch.setattr(sys, "exec_prefix", str(linux))
    assert deps.qgis_python() == str(linux / "bin" / f"python{version}")
    monkeypatch.setattr(sys, "exec_prefix", str(windows))
    assert deps.qgis_python() == str(windows / "python.exe")
    monkeypatch.setattr(sys, "exec_prefix", str(tmp_path / "nowhere"))
    assert deps.qgis_python() in ("python3", "python")


def test_install_arguments_keep_windows_paths_whole(monkeypatch):
    """The install runs from arguments, not a re-parsed command line: a Windows profile path with spaces and
    backslashes reaches pip as one argument; the command shown to the person quotes it."""
    python = r"C:\OSGeo4W\apps\Python312\python.exe"
    target = r"C:\Users\Ana Lyst\AppData\Roaming\QGIS\QGIS3\profiles\default\python\sarclip_dependencies"
    args = deps.install_args(target, python=python)
    assert args == [python, "-m", "pip", "install", "--prefix", target, "-r", str(deps.REQUIREMENTS_FILE)]
    assert deps.install_command(target, python=python) == \
        f'"{python}" -m pip install --prefix "{target}" -r "{deps.REQUIREMENTS_FILE}"'
    assert deps.install_args(python=python)[4] == "--user"
