"""The scene engine's one seam between its inference backends: PyTorch (the full engine) and ONNX Runtime.

A scene run's model is either a PyTorch Checkpoint (model/checkpoint.py) or an OnnxModel
(model/onnx_runtime.py, a checkpoint's ONNX export). Both carry normalisation, channels, calibration
and `reader.native_size` / `.channels`; what differs (window cells, texts, example chips, the index
identity, tokens) goes through the functions here, so the rest of the scene engine is backend-blind.
PyTorch is imported only on the PyTorch path: with `auto`, a Python without PyTorch runs ONNX Runtime.
"""

from __future__ import annotations

import importlib.util
import os
from typing import TYPE_CHECKING, Callable, Sequence, Union

import numpy as np

from ..errors import SarclipError
from ..model.meta import checkpoint_folder
from ..model.onnx_runtime import OnnxModel, load_onnx

if TYPE_CHECKING:
    from ..model import Checkpoint

    InferenceModel = Union[Checkpoint, OnnxModel]

BACKENDS = ("auto", "torch", "onnx")


def torch_available() -> bool:
    """Whether PyTorch and open_clip are installed (found, not imported: importing torch takes seconds)."""
    return all(importlib.util.find_spec(name) is not None for name in ("torch", "open_clip"))


def resolve_backend(backend: str = "auto") -> str:
    """'torch' or 'onnx' for a backend choice; auto is PyTorch where it is installed, else ONNX Runtime."""
    if backend not in BACKENDS:
        raise SarclipError(f"unknown backend {backend!r}: choose one of {', '.join(BACKENDS)}")
    if backend == "auto":
        return "torch" if torch_available() else "onnx"
    if backend == "torch" and not torch_available():
        raise SarclipError("the torch backend needs PyTorch and open_clip, which this Python lacks "
                           "(install requirements.txt, or use --backend onnx)")
    return backend


def load_model(spec: str | os.PathLike = "default", backend: str = "auto") -> InferenceModel:
    """The model for a --model value on a backend: 'default' or a checkpoint folder on either, an open_clip
    name on PyTorch only (ONNX Runtime runs checkpoint folders that hold an export)."""
    if resolve_backend(backend) == "onnx":
        folder = checkpoint_folder(str(spec))
        if folder is None:
            raise SarclipError(f"{spec}: ONNX Runtime runs checkpoint folders with an ONNX export; "
                               "an open_clip name needs PyTorch (requirements.txt)")
        return load_onnx(folder)
    from ..model import load_model as load_torch

    return load_torch(spec)


def is_onnx(model: InferenceModel) -> bool:
    """Whether a loaded model runs on ONNX Runtime (else PyTorch)."""
    return isinstance(model, OnnxModel)


def window_encoder(model: InferenceModel) -> Callable[[np.ndarray], np.ndarray]:
    """(B, C, T, T) normalised windows -> (B, h, w, D) unit cell embeddings; with `cell_shape(tile)`."""
    if is_onnx(model):
        return model.window_encoder()
    from .encoder import WindowEncoder

    return WindowEncoder(model)


def model_identity(model: InferenceModel) -> str:
    """What names the model in a scene index's key. An export carries its PyTorch model's identity: its cells
    equal PyTorch's to float rounding (tests), so either backend reuses an index the other built."""
    if is_onnx(model):
        return model.identity
    from .encoder import model_identity as torch_identity

    return torch_identity(model)


def text_encoder(model: InferenceModel) -> Callable[[Sequence[str]], np.ndarray]:
    """Texts -> (N, D) unit float32 text embeddings."""
    if is_onnx(model):
        return model.encode_texts
    from ..model import encode_text

    return lambda texts: encode_text(model.model, texts).float().cpu().numpy()


def chip_embeddings(model: InferenceModel, chips: Sequence[np.ndarray]) -> np.ndarray:
    """(N, D) unit embeddings of normalised (C, H, W) chips of any size, read by AnyReader."""
    if is_onnx(model):
        return model.reader.encode_chips(chips)
    from ..model import encode_chips

    return encode_chips(model.reader, chips).float().cpu().numpy()


def token_count(model: InferenceModel, text: str) -> int:
    """Tokens of one text, start and end of text included, before any cut to the text tower's context."""
    if is_onnx(model):
        return model.tokenizer.count(text)
    import open_clip

    return int((open_clip.tokenize([text], context_length=len(text) + 2) != 0).sum())


def context_length(model: InferenceModel) -> int:
    """Tokens the text tower reads; longer prompts are cut."""
    return model.context_length if is_onnx(model) else int(getattr(model.model, "context_length", 77))


def logit_scale(model: InferenceModel) -> float:
    """The model's learned softmax temperature (CLIP's exp(logit_scale)), capped as open_clip does."""
    if is_onnx(model):
        return model.logit_scale
    scale = getattr(model.model, "logit_scale", None)
    return float(min(100.0, scale.exp().item())) if scale is not None else 100.0


def cache_key(model: InferenceModel) -> object:
    """The object text embeddings are cached under: the loaded network (the same for every run of a session)."""
    return model if is_onnx(model) else model.model
