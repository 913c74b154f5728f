"""A SARCLIP checkpoint's ONNX export run with ONNX Runtime: the scene engine's inference without PyTorch.

`load_onnx(folder)` gives an OnnxModel with what the scene engine reads from a PyTorch Checkpoint
(normalisation, channels, calibration, `reader.native_size` / `.channels` / `.enabled`) and the encoders
it calls (window cells, texts, example chips), computed by the graphs onnx_export.py writes. AnyReader's
resizing, tiling and channel mapping are done here in numpy, exactly as anyreader.py does them in torch
(the tests compare both). Nothing here imports PyTorch or open_clip; onnxruntime is imported when a
model is loaded.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..errors import SarclipError
from ..io import Normalisation, fit_channels
from .meta import READER_FILE, WEIGHTS_FILE, read_json, read_meta
from .tokenizer import VOCAB_FILE, Tokenizer

MANIFEST = "sarclip_onnx.json"
MANIFEST_FORMAT = "sarclip-onnx/1"
IMAGE_FILE = "image_encoder.onnx"
FUSION_FILE = "image_fusion.onnx"
CELLS_FILE = "image_cells.onnx"
TEXT_FILE = "text_encoder.onnx"
WINDOW_CELLS = 4  # as scene/encoder.py: a tower without dense readout spreads its window embedding over 4 x 4 cells
CHUNK = 64  # images per run of the image graph, as AnyReader's chunk
EXPORT_COMMAND = "python -m sarclip_core.model export-onnx"


def digest(path: Path) -> str:
    """SHA-256 of a file: ties an export to the weights it was made from."""
    hasher = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(1 << 20):
            hasher.update(block)
    return hasher.hexdigest()


def has_onnx(folder: Path) -> bool:
    """Whether a checkpoint folder holds a complete ONNX export (its manifest is written last)."""
    return (folder / MANIFEST).is_file()


def default_threads() -> int:
    """Threads per graph run: OMP_NUM_THREADS as PyTorch reads it, else every core."""
    try:
        return max(1, int(os.environ.get("OMP_NUM_THREADS", "")))
    except ValueError:
        return os.cpu_count() or 1


@lru_cache(maxsize=64)
def _resample(size_in: int, size_out: int) -> np.ndarray:
    """(out, in) weights of PyTorch's antialiased bilinear resize (align_corners=False) along one axis."""
    scale = size_in / size_out
    support = scale if scale >= 1.0 else 1.0
    inverse = 1.0 / scale if scale >= 1.0 else 1.0
    weights = np.zeros((size_out, size_in), np.float64)
    for i in range(size_out):
        center = scale * (i + 0.5)
        low = max(int(center - support + 0.5), 0)
        high = min(int(center + support + 0.5), size_in)
        taps = np.clip(1.0 - np.abs((np.arange(low, high) - center + 0.5) * inverse), 0.0, None)
        weights[i, low:high] = taps / taps.sum() if taps.sum() > 0 else taps
    return weights.astype(np.float32)


def resize(x: np.ndarray, size: int) -> np.ndarray:
    """(C, H, W) -> (C, size, size) as AnyReader's torch resize (bilinear, antialiased); native size as is."""
    if x.shape[1:] == (size, size):
        return x
    return np.einsum("oh,chw,pw->cop", _resample(x.shape[1], size), x, _resample(x.shape[2], size), optimize=True)


class Session:
    """One ONNX graph in ONNX Runtime on the CPU, with a clear error when the file is not a usable graph."""

    def __init__(self, path: Path, threads: int):
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3  # warnings about unused initialisers are not the analyst's business
        try:
            self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as error:  # ORT raises its own Fail/InvalidGraph/NoSuchFile types
            raise SarclipError(f"{path}: not a usable ONNX graph ({str(error).splitlines()[0]}); "
                               f"re-run `{EXPORT_COMMAND} {path.parent}`") from None
        self.output = self.session.get_outputs()[0].name

    def __call__(self, **inputs: np.ndarray) -> np.ndarray:
        return self.session.run([self.output], inputs)[0]


def _unit(x: np.ndarray) -> np.ndarray:
    return (x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)).astype(np.float32)


class OnnxReader:
    """AnyReader on ONNX Runtime: native tiles plus a global view of each image, fused (anyreader.py)."""

    def __init__(self, image: Session, fusion: Session, native_size: int, channels: int, enabled: bool):
        self.image, self.fusion = image, fusion
        self.native_size, self.channels, self.enabled = native_size, channels, enabled

    def encode(self, x: np.ndarray) -> np.ndarray:
        """(B, D) tower embeddings of native-size chips (B, C, S, S)."""
        return np.concatenate([self.image(images=np.ascontiguousarray(x[i:i + CHUNK], np.float32))
                               for i in range(0, len(x), CHUNK)])

    def __call__(self, images: Sequence[np.ndarray]) -> np.ndarray:
        """(B, D) fused embeddings (not normalised) of (C, H, W) images of any sizes."""
        images = [fit_channels(np.asarray(x, np.float32), self.channels) for x in images]
        views = np.stack([resize(x, self.native_size) for x in images])
        if not self.enabled:
            return self.encode(views)
        tiles = [self._tiles(x) for x in images]
        native = [x.shape[1:] == (self.native_size, self.native_size) for x in images]
        extra = [t for t, is_native in zip(tiles, native) if not is_native]
        encoded = self.encode(np.concatenate([views, *extra]))
        global_emb, rest = encoded[:len(images)], encoded[len(images):]
        counts = [len(t) for t in tiles]
        padded = np.zeros((len(images), max(counts), encoded.shape[1]), np.float32)
        start = 0
        for i, is_native in enumerate(native):
            if is_native:
                padded[i, 0] = global_emb[i]
            else:
                padded[i, :counts[i]] = rest[start:start + counts[i]]
                start += counts[i]
        padding = np.arange(max(counts))[None] >= np.asarray(counts)[:, None]
        return self.fusion(**{"global": global_emb, "tiles": padded, "padding": padding})

    def _tiles(self, x: np.ndarray) -> np.ndarray:
        channels, height, width = x.shape
        size = self.native_size
        rows, cols = math.ceil(height / size), math.ceil(width / size)
        x = np.pad(x, ((0, 0), (0, rows * size - height), (0, cols * size - width)))
        return x.reshape(channels, rows, size, cols, size).transpose(1, 3, 0, 2, 4).reshape(-1, channels, size, size)

    def encode_chips(self, chips: Sequence[np.ndarray], batch_size: int = 64) -> np.ndarray:
        """(N, D) unit embeddings of normalised (C, H, W) chips of any size (model/encode.py's encode_chips)."""
        return _unit(np.concatenate([self(chips[i:i + batch_size]) for i in range(0, len(chips), batch_size)]))


class OnnxWindowEncoder:
    """The scene engine's window encoder (scene/encoder.py) on ONNX Runtime: (B, C, T, T) -> (B, h, w, D) unit cells."""

    def __init__(self, model: "OnnxModel"):
        self.model = model

    def __call__(self, inputs: np.ndarray) -> np.ndarray:
        x = np.ascontiguousarray(inputs, dtype=np.float32)
        if self.model.cells is not None:
            return self.model.cells(windows=x)
        window = _unit(self.model.reader(list(x)))
        return np.broadcast_to(window[:, None, None], (len(window), WINDOW_CELLS, WINDOW_CELLS, window.shape[1]))

    def cell_shape(self, tile: int) -> tuple[int, int]:
        """(cells per side, embedding size) of a window of `tile` pixels."""
        probe = self(np.zeros((1, self.model.reader.channels, tile, tile), np.float32))
        return int(probe.shape[1]), int(probe.shape[-1])


@dataclass(eq=False)  # compared and hashed by identity: a key of the text-embedding cache
class OnnxModel:
    """A checkpoint's ONNX export, loaded: what the scene engine needs of a model, without PyTorch."""

    folder: Path
    reader: OnnxReader
    cells: Session | None  # the dense readout; None for a tower without one
    text: Session
    tokenizer: Tokenizer
    normalisation: Normalisation
    channels: int
    calibration: dict[str, float]
    labels: list[str] | str | None
    identity: str  # the PyTorch model's scene-index identity (scene/encoder.py model_identity)
    logit_scale: float
    context_length: int

    def window_encoder(self) -> OnnxWindowEncoder:
        return OnnxWindowEncoder(self)

    def encode_texts(self, texts: Sequence[str]) -> np.ndarray:
        """(N, D) unit text embeddings, tokenised as open_clip does."""
        tokens = self.tokenizer(list(texts), self.context_length)
        return _unit(np.concatenate([self.text(tokens=tokens[i:i + 256]) for i in range(0, len(tokens), 256)]))


def load_onnx(folder: str | os.PathLike, threads: int | None = None) -> OnnxModel:
    """The ONNX export in a checkpoint folder; a missing or stale export is a one-line error with the command."""
    root = Path(folder)
    meta = read_meta(root)
    if not has_onnx(root):
        raise SarclipError(f"{root}: has no ONNX export; make it with `{EXPORT_COMMAND} {root}`")
    manifest = read_json(root / MANIFEST)
    problem = _check(root, manifest)
    if problem:
        raise SarclipError(f"{root}: the ONNX export {problem}; re-run `{EXPORT_COMMAND} {root}`")
    threads = threads or default_threads()
    try:
        normalisation = Normalisation.from_dict(meta["normalisation"])
        channels = int(meta["input_channels"])
    except (KeyError, TypeError, ValueError, SarclipError) as error:
        raise SarclipError(f"{root}: invalid checkpoint metadata: {error}") from error
    reader = OnnxReader(Session(root / IMAGE_FILE, threads), Session(root / FUSION_FILE, threads),
                        int(manifest["native_size"]), int(manifest["input_channels"]), bool(manifest["enabled"]))
    cells = Session(root / CELLS_FILE, threads) if manifest["dense"] else None
    return OnnxModel(root, reader, cells, Session(root / TEXT_FILE, threads), Tokenizer(root / VOCAB_FILE),
                     normalisation, channels, meta["calibration"], meta.get("labels"), str(manifest["identity"]),
                     float(manifest["logit_scale"]), int(manifest["context_length"]))


def _check(root: Path, manifest: dict[str, Any]) -> str | None:
    """None when the export is whole and made from the folder's weights, else what is wrong."""
    if manifest.get("format") != MANIFEST_FORMAT:
        return f"is of another format ({manifest.get('format')!r})"
    try:
        for name, size in manifest["files"].items():
            path = root / name
            if not path.is_file():
                return f"lacks {name}"
            if path.stat().st_size != size:
                return f"file {name} holds {path.stat().st_size} bytes instead of {size}"
        for name, expected in manifest["weights"].items():
            if name not in (WEIGHTS_FILE, READER_FILE) or digest(root / name) != expected:
                return f"was made from other weights than {name}"
    except (KeyError, AttributeError, TypeError, OSError) as error:
        return f"manifest {MANIFEST} is not valid ({json.dumps(str(error))})"
    return None
