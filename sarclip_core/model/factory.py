"""One model factory: any open_clip architecture by name or JSON config, weights from a tag, a file or random."""

from __future__ import annotations

import json
import os
import socket
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import open_clip
import torch
from huggingface_hub import constants as hub_constants
from huggingface_hub import hf_hub_download
from huggingface_hub.errors import EntryNotFoundError
from open_clip.constants import HF_SAFE_WEIGHTS_NAME, HF_WEIGHTS_NAME
from open_clip.transform import merge_preprocess_dict
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
    offline = bool(hub_constants.HF_HUB_OFFLINE) or _hub_unreachable()
    weights = tag_weights(name, str(pretrained), offline)
    preprocess = merge_preprocess_dict({}, open_clip.get_pretrained_cfg(name, str(pretrained)))  # the tag's mean, std
    return open_clip.create_model(name, pretrained=weights, device=device, precision=precision,
                                  force_preprocess_cfg=preprocess)


def tag_weights(name: str, tag: str, offline: bool) -> str:
    """The local file of an open_clip tag's weights, downloaded first unless `offline`.

    Args:
        name: the open_clip architecture, e.g. "RN50".
        tag: one of its pretrained tags, e.g. "openai".
        offline: look in the local caches only (the Hugging Face hub cache, ~/.cache/clip): no request is
            made, so a machine without network fails at once instead of after a minute of retries.
    """
    config = open_clip.get_pretrained_cfg(name, tag)
    try:
        if config.get("hf_hub"):
            repo, filename = os.path.split(config["hf_hub"])
            return _hub_file(repo, filename or HF_WEIGHTS_NAME, offline)
        cached = Path("~/.cache/clip").expanduser() / os.path.basename(config["url"])
        if offline and not cached.is_file():
            raise FileNotFoundError(f"{cached} is not cached")
        return open_clip.download_pretrained_from_url(config["url"])
    except (OSError, ValueError, RuntimeError, EntryNotFoundError) as error:
        reason = "they are not cached and there is no internet (or HF_HUB_OFFLINE=1)" if offline else "download failed"
        raise SarclipError(f"cannot get open_clip weights {name}/{tag}: {reason}; "
                           f"pass a local .pt/.safetensors file instead ({error})") from error


def _hub_file(repo: str, filename: str, offline: bool) -> str:
    """A file of a hub repository, its safetensors twin first (as open_clip prefers it)."""
    twin = HF_SAFE_WEIGHTS_NAME if filename == HF_WEIGHTS_NAME else None
    if twin is None and filename.endswith((".bin", ".pth")):
        twin = filename[:-4] + ".safetensors"
    if twin is not None:
        try:
            return hf_hub_download(repo, twin, local_files_only=offline, library_name="open_clip")
        except (OSError, EntryNotFoundError):
            pass
    return hf_hub_download(repo, filename, local_files_only=offline, library_name="open_clip")


def _hub_unreachable() -> bool:
    """True when the Hugging Face hub's name does not resolve (no network), so downloads cannot work."""
    try:
        socket.getaddrinfo("huggingface.co", 443)
    except OSError:
        return True
    return False
