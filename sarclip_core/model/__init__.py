"""SARCLIP model: open_clip factory and configs, AnyReader, safetensors checkpoints, encoding helpers.

Names are imported on first use (see sarclip_core.lazy): the ONNX Runtime path (onnx_runtime.py,
tokenizer.py, meta.py) lives in this package too and must import where PyTorch is not installed.
"""

from ..lazy import lazy_attributes

__getattr__ = lazy_attributes(__name__, {
    "AnyReader": ".anyreader", "Reading": ".anyreader", "TileFusion": ".anyreader", "Checkpoint": ".checkpoint",
    "load_checkpoint": ".checkpoint", "load_weights": ".checkpoint", "read_weights": ".checkpoint",
    "save_checkpoint": ".checkpoint", "encode_chips": ".encode", "encode_text": ".encode", "CONFIG_DIR": ".factory",
    "DEFAULT_MODEL": ".factory", "create_model": ".factory", "model_config": ".factory", "model_name": ".factory",
    "DEFAULT_CHECKPOINT": ".meta", "load_model": ".resolve"})

__all__ = [
    "AnyReader", "CONFIG_DIR", "Checkpoint", "DEFAULT_CHECKPOINT", "DEFAULT_MODEL", "Reading", "TileFusion", "create_model",
    "encode_chips", "encode_text", "load_checkpoint", "load_model", "load_weights", "model_config", "model_name",
    "read_weights", "save_checkpoint",
]
