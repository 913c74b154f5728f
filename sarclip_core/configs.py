"""Config files (YAML or JSON, chosen by extension) read into a mapping, with one-line errors.

The trainer (--config: flag names to values) and the evaluation suite (a task list) read theirs here.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import yaml

from .errors import SarclipError


def read_config(path: str | os.PathLike) -> dict[str, Any]:
    """The mapping in a .json file (JSON) or any other file (YAML), {} for an empty one.

    A file that cannot be read, is not valid JSON/YAML or holds something else than a mapping is one
    SarclipError naming it.
    """
    path = Path(path)
    kind = "JSON" if path.suffix.lower() == ".json" else "YAML"
    try:
        text = path.read_text(encoding="utf-8")
        values = json.loads(text) if kind == "JSON" else yaml.safe_load(text)
    except (OSError, UnicodeError) as error:
        raise SarclipError(f"{path}: cannot read config ({getattr(error, 'strerror', None) or error})") from None
    except (ValueError, yaml.YAMLError) as error:
        raise SarclipError(f"{path}: not valid {kind}: {str(error).splitlines()[0]}") from None
    if values is None:  # an empty file
        return {}
    if not isinstance(values, dict):
        raise SarclipError(f"{path}: a config is a mapping of names to values, not {type(values).__name__}")
    return values
