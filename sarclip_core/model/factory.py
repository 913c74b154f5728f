"""One model factory: any open_clip architecture by name or JSON config, weights from a tag, a file or random."""

from __future__ import annotations

from contextlib import nullcontext
import json
import os
import socket
from pathlib import Path
from typing import Any
from unittest.mock import patch

import open_clip
import torch
from huggingface_hub import constants as hub_constants
from torch import nn

from ..errors import SarclipError
from .checkpoint import load_weights, quiet_random_init

CONFIG_DIR = Path(__file__).resolve().parent / "configs"
DEFAULT_MODEL = "sarclip-tiny-rn"

open_clip.add_model_config(CONFIG_DIR)


def model_name(name_or_config: str | os.PathLike) -> str:
    """open_clip's name for a model; a JSON config file is registered under its file stem first."""
    text = str(name_or_config)
    if not text.endswith(".json"):
        return text
    path = Path(text)
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise SarclipError(f"{path}: cannot read model config: {error}") from error
    if not isinstance(config, dict) or not {"embed_dim", "vision_cfg", "text_cfg"} <= config.keys():
        raise SarclipError(f"{path}: a model config needs embed_dim, vision_cfg and text_cfg")
    open_clip.add_model_config(path)
    return path.stem


def model_config(name_or_config: str | os.PathLike) -> dict[str, Any]:
    """The open_clip model config (embed_dim, vision_cfg, text_cfg) of a name or JSON config file."""
    name = model_name(name_or_config)
    config = open_clip.get_model_config(name)
    if config is None:
        raise SarclipError(f"unknown model {name!r}: neither an open_clip architecture nor a JSON config file "
                           f"(ours: {sorted(p.stem for p in CONFIG_DIR.glob('*.json'))})")
    return config


def create_model(name_or_config: str | os.PathLike = DEFAULT_MODEL, pretrained: str | os.PathLike | None = None,
                 device: str | torch.device = "cpu", precision: str = "fp32") -> nn.Module:
    """Build an open_clip model; `pretrained` is an open_clip tag, a .pt/.safetensors file, a checkpoint dir or None."""
    name = model_name(name_or_config)
    model_config(name)
    if pretrained is None or Path(pretrained).exists():
        with quiet_random_init() if pretrained is not None else nullcontext():
            model = open_clip.create_model(name, precision=precision)
        if pretrained is not None:
            load_weights(model, pretrained)
        return model.to(device)
    tags = open_clip.list_pretrained_tags_by_model(name)
    if pretrained not in tags:
        raise SarclipError(f"pretrained {str(pretrained)!r} for {name} is neither a file, a checkpoint directory "
                           f"nor an open_clip tag (tags: {tags or 'none'})")
    offline = hub_constants.HF_HUB_OFFLINE or _hub_unreachable()
    try:
        with patch.object(hub_constants, "HF_HUB_OFFLINE", offline):  # cached weights only, no minute of retries
            return open_clip.create_model(name, pretrained=str(pretrained), device=device, precision=precision)
    except RuntimeError as error:
        reason = "they are not cached and there is no internet (or HF_HUB_OFFLINE=1)" if offline else "download failed"
        raise SarclipError(f"cannot get open_clip weights {name}/{pretrained}: {reason}; "
                           f"pass a local .pt/.safetensors file instead ({error})") from error


def _hub_unreachable() -> bool:
    """True when the Hugging Face hub's name does not resolve (no network), so downloads cannot work."""
    try:
        socket.getaddrinfo("huggingface.co", 443)
    except OSError:
        return True
    return False
