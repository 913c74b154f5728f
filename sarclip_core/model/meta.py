"""A checkpoint folder's file names and its SARCLIP metadata (sarclip.json), read without PyTorch.

Both backends read the same metadata: the PyTorch loader (checkpoint.py) and the ONNX Runtime one
(onnx_runtime.py), so normalisation, channels and calibration mean the same on either.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..errors import SarclipError
from ..package_data import resource

DEFAULT_CHECKPOINT = resource("models", "sarclip-tiny")
CONFIG_FILE = "open_clip_config.json"
WEIGHTS_FILE = "open_clip_model.safetensors"
READER_FILE = "anyreader.safetensors"
SARCLIP_FILE = "sarclip.json"
FORMAT = "sarclip-checkpoint/1"


def read_json(path: Path) -> dict[str, Any]:
    """A JSON object from a checkpoint file; a missing or unreadable file is a one-line error naming it."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise SarclipError(f"{path}: missing from the checkpoint") from error
    except (OSError, ValueError) as error:
        raise SarclipError(f"{path}: not readable JSON: {error}") from error
    if not isinstance(data, dict):
        raise SarclipError(f"{path}: expected a JSON object")
    return data


def read_meta(root: Path) -> dict[str, Any]:
    """The checkpoint's sarclip.json, checked to be ours (format) and with a numeric calibration."""
    if not root.is_dir():
        raise SarclipError(f"{root}: checkpoint directory not found")
    meta = read_json(root / SARCLIP_FILE)
    if meta.get("format") != FORMAT:
        raise SarclipError(f"{root / SARCLIP_FILE}: not a SARCLIP checkpoint (format {meta.get('format')!r})")
    calibration = meta.get("calibration") or {}
    if not isinstance(calibration, dict) or not all(isinstance(v, (int, float)) for v in calibration.values()):
        raise SarclipError(f"{root / SARCLIP_FILE}: 'calibration' must map names to numbers")
    meta["calibration"] = {str(k): float(v) for k, v in calibration.items()}
    return meta


def checkpoint_folder(spec: str) -> Path | None:
    """The folder a --model value names ('default' or a folder), or None for an open_clip name."""
    if spec == "default":
        if not DEFAULT_CHECKPOINT.is_dir():
            raise SarclipError(f"the default model is missing ({DEFAULT_CHECKPOINT}); `make model` builds it")
        return DEFAULT_CHECKPOINT
    path = Path(spec)
    return path if path.is_dir() else None
