"""SARCLIP model: open_clip factory and configs, AnyReader, safetensors checkpoints, encoding helpers."""

from .anyreader import AnyReader, Reading, TileFusion
from .checkpoint import Checkpoint, load_checkpoint, load_weights, read_weights, save_checkpoint
from .encode import encode_chips, encode_text
from .factory import CONFIG_DIR, DEFAULT_MODEL, create_model, model_config, model_name
from .resolve import DEFAULT_CHECKPOINT, load_model

__all__ = [
    "AnyReader", "CONFIG_DIR", "Checkpoint", "DEFAULT_CHECKPOINT", "DEFAULT_MODEL", "Reading", "TileFusion", "create_model",
    "encode_chips", "encode_text", "load_checkpoint", "load_model", "load_weights", "model_config", "model_name",
    "read_weights", "save_checkpoint",
]
