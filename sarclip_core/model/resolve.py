"""What `--model` means everywhere: 'default', a checkpoint directory, or an open_clip name[:pretrained]."""

from __future__ import annotations

import os
from pathlib import Path

import torch

from ..errors import SarclipError
from ..io import Normalisation
from .anyreader import AnyReader
from .checkpoint import Checkpoint, load_checkpoint
from .factory import create_model, model_config, model_name
from .meta import DEFAULT_CHECKPOINT


def load_model(spec: str | os.PathLike = "default", device: str | torch.device = "cpu") -> Checkpoint:
    """Load 'default' (the bundled model), a checkpoint directory, or an open_clip architecture[:pretrained]."""
    text = str(spec)
    if text == "default":
        if not DEFAULT_CHECKPOINT.is_dir():
            raise SarclipError(f"the default model is missing ({DEFAULT_CHECKPOINT}); `make model` builds it")
        return load_checkpoint(DEFAULT_CHECKPOINT, device)
    path = Path(text)
    if path.is_dir():
        return load_checkpoint(path, device)
    if path.suffix or os.sep in text:
        raise SarclipError(f"{text}: model not found (expected 'default', a checkpoint directory or an open_clip name)")
    name, _, pretrained = text.partition(":")
    model = create_model(name, pretrained or None, device=device).eval()
    reader = AnyReader.for_model(model).to(device).eval()
    return Checkpoint(model, reader, model_config(model_name(name)), Normalisation(), 1)
