"""SARCLIP checkpoints: a directory plain open_clip loads ('local-dir:DIR'), plus AnyReader and SAR metadata."""

from __future__ import annotations

import json
import logging
import os
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import open_clip
import torch
from open_clip.factory import load_state_dict
from safetensors import SafetensorError
from safetensors.torch import save_file
from torch import nn

from ..errors import SarclipError
from ..files import atomic_folder, check_writable_place, sweep_stale, visible_path
from ..io import Normalisation
from .anyreader import AnyReader
from .meta import CONFIG_FILE, FORMAT, READER_FILE, SARCLIP_FILE, WEIGHTS_FILE, read_json, read_meta


@dataclass
class Checkpoint:
    """A loaded SARCLIP model with what it needs to read SAR the way it was trained."""

    model: nn.Module
    reader: AnyReader
    config: dict[str, Any]
    normalisation: Normalisation
    channels: int
    labels: list[str] | str | None = None
    train_args: dict[str, Any] = field(default_factory=dict)
    # How map scores become probabilities (fitted on training windows, see train/calibrate.py):
    # {"temperature": T, "bias": b, "peak_threshold": p}; empty = the model's own logit scale, no bias.
    calibration: dict[str, float] = field(default_factory=dict)


def save_checkpoint(directory: str | os.PathLike, model: nn.Module, config: dict[str, Any],
                    reader: AnyReader | None = None, normalisation: Normalisation | None = None,
                    channels: int = 1, labels: list[str] | str | None = None,
                    train_args: dict[str, Any] | None = None, dtype: torch.dtype = torch.float32,
                    calibration: dict[str, float] | None = None) -> Path:
    """Write a checkpoint directory atomically (built beside it, then renamed into place).

    Only an empty folder or an earlier checkpoint is replaced (see check_checkpoint_target).
    `dtype=torch.float16` halves the files (e.g. the bundled model); loading casts back to the model's dtype.
    """
    target = Path(directory)
    check_checkpoint_target(target)
    reader = AnyReader.for_model(model) if reader is None else reader
    sweep_stale(target.parent, {target.name})  # left by a run killed while saving here
    size = reader.native_size
    open_clip_cfg = {"model_cfg": config, "preprocess_cfg": {"size": size, "mean": [0.0] * 3, "std": [1.0] * 3,
                                                             "interpolation": "bilinear"}}
    meta = {"format": FORMAT, "normalisation": (normalisation or Normalisation()).to_dict(),
            "input_channels": channels, "labels": labels,
            "anyreader": {"heads": reader.fusion.attn.num_heads, "enabled": reader.enabled},
            "train_args": train_args or {}, "calibration": calibration or {}}
    try:
        with atomic_folder(target) as staging:  # no staging folder stays, whatever stops the write
            _write_json(staging / CONFIG_FILE, open_clip_cfg)
            _write_json(staging / SARCLIP_FILE, meta)
            save_file(_tensors(model, dtype), str(staging / WEIGHTS_FILE))
            save_file(_tensors(reader.fusion, dtype), str(staging / READER_FILE))
    except (OSError, SafetensorError) as error:  # a full disk, a quota: one line
        raise SarclipError(f"{visible_path(target)}: cannot write the checkpoint ({error}); is the disk full?") from None
    return target


def is_checkpoint_dir(directory: str | os.PathLike) -> bool:
    """Whether a folder is a checkpoint this project wrote: its sarclip.json names our format."""
    try:
        return read_json(Path(directory) / SARCLIP_FILE).get("format") == FORMAT
    except SarclipError:
        return False


def check_checkpoint_target(directory: str | os.PathLike, overwrite: bool = True, flag: str = "checkpoint") -> None:
    """Refuse a checkpoint destination whose replacement could lose someone's data.

    Saving replaces the destination folder whole, so only an empty folder or a checkpoint this project
    wrote (and with overwrite=False, not even that) may be there; a file or any other folder is refused.
    """
    target = Path(directory)
    if target.is_dir() and any(target.iterdir()):
        if not is_checkpoint_dir(target):
            raise SarclipError(f"{target}: {flag} is a folder that is not a SARCLIP checkpoint (no {SARCLIP_FILE}); "
                               "not replaced: give a new or empty folder")
        if not overwrite:
            raise SarclipError(f"{target}: {flag} already holds a checkpoint; add --overwrite to replace it")
    elif target.exists() and not target.is_dir():
        raise SarclipError(f"{target}: {flag} is a file, not a folder; not replaced")
    check_writable_place(target, flag)


def load_checkpoint(directory: str | os.PathLike, device: str | torch.device = "cpu") -> Checkpoint:
    """Load a checkpoint directory (weights from safetensors only), with clear errors naming the bad file."""
    root = Path(directory)
    meta = read_meta(root)
    config = read_json(root / CONFIG_FILE).get("model_cfg")
    if not isinstance(config, dict):
        raise SarclipError(f"{root / CONFIG_FILE}: has no 'model_cfg' object")
    try:
        with quiet_random_init():
            model = open_clip.create_model(f"local-dir:{root}", load_weights=False)
        normalisation = Normalisation.from_dict(meta["normalisation"])
        heads, enabled, channels = meta["anyreader"]["heads"], meta["anyreader"]["enabled"], int(meta["input_channels"])
    except (KeyError, TypeError, ValueError, SarclipError) as error:
        raise SarclipError(f"{root}: invalid checkpoint metadata: {error}") from error
    load_weights(model, root / WEIGHTS_FILE)
    reader = AnyReader.for_model(model, heads=heads, enabled=enabled)
    load_weights(reader.fusion, root / READER_FILE)
    model.to(device).eval()
    reader.to(device).eval()
    return Checkpoint(model, reader, config, normalisation, channels, meta.get("labels"), meta.get("train_args", {}),
                      meta["calibration"])


class _OpenClipNotes(logging.Filter):
    """Drops open_clip's own records (it logs through the root logger), nobody else's."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.pathname.startswith(os.path.dirname(open_clip.__file__))


@contextmanager
def quiet_random_init() -> Iterator[None]:
    """Silence open_clip's "No pretrained weights loaded" warning where weights are loaded right after.

    Only open_clip's records, only during the call: logging inside QGIS (other plugins, QGIS itself) is
    left as it is, instead of disabling every warning process-wide.
    """
    notes = _OpenClipNotes()
    logging.root.addFilter(notes)
    try:
        yield
    finally:
        logging.root.removeFilter(notes)


def read_weights(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """Tensors from .safetensors or .pt/.pth/.bin, read by open_clip's load_state_dict.

    That is torch.load with weights_only (nothing arbitrary is unpickled), the state dict of an open_clip
    training checkpoint, and DDP's "module." prefix dropped; anything else is one SarclipError naming the file.
    """
    path = Path(path)
    if not path.is_file():
        raise SarclipError(f"{path}: weights file not found")
    try:
        state = load_state_dict(str(path))
    except Exception as error:  # safetensors, zip and unpickling errors all mean the same to the user
        problem = "cannot read weights (truncated, corrupt or not a weights file)"
        raise SarclipError(f"{path}: {problem}: {error}") from error
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise SarclipError(f"{path}: holds no state dict of tensors")
    return state


def load_weights(module: nn.Module, path: str | os.PathLike) -> None:
    """Load a weights file (or a checkpoint directory's weights) into a module, naming what does not fit."""
    path = Path(path)
    if path.is_dir():
        path = path / WEIGHTS_FILE
    state = read_weights(path)
    expected = module.state_dict()
    missing = sorted(expected.keys() - state.keys())
    unexpected = sorted(state.keys() - expected.keys())
    shapes = [f"{key} {tuple(state[key].shape)} vs model {tuple(value.shape)}"
              for key, value in expected.items() if key in state and state[key].shape != value.shape]
    problems = [f"{len(missing)} missing (e.g. {missing[:3]})"] if missing else []
    problems += [f"{len(unexpected)} unexpected (e.g. {unexpected[:3]})"] if unexpected else []
    problems += [f"{len(shapes)} of another shape (e.g. {shapes[:3]})"] if shapes else []
    if problems:
        raise SarclipError(f"{path}: weights do not match the model: {'; '.join(problems)}")
    module.load_state_dict(state)


def _tensors(module: nn.Module, dtype: torch.dtype = torch.float32) -> dict[str, torch.Tensor]:
    return {key: (value.to(dtype) if value.is_floating_point() else value).detach().cpu().contiguous()
            for key, value in module.state_dict().items()}


def _write_json(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(data, indent=2, default=str), encoding="utf-8")
