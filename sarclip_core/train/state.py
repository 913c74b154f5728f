"""Resumable training checkpoints: a SARCLIP model directory plus optimiser/scheduler/step state, written atomically."""

from __future__ import annotations

import random
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import torch

from ..errors import SarclipError
from ..files import atomic_folder, sweep_stale

STATE_FILE = "train_state.pt"
STATE_KEYS = ("step", "optimizer", "scheduler", "extra", "torch_rng", "python_rng")  # what save_state writes
MODEL_DIR = "model"
_STEP_DIR = re.compile(r"^step_(\d{8})$")


@dataclass
class TrainState:
    """Where training stands: global step (optimiser steps taken) and the states needed to continue exactly."""

    step: int
    optimizer: dict[str, Any]
    scheduler: dict[str, Any]
    extra: dict[str, Any]  # stage-specific module states (e.g. the SSL decoder), RNG states


def save_state(root: Path, state: TrainState, save_model: Callable[[Path], None], keep: int = 2) -> Path:
    """Write checkpoints/step_NNNNNNNN (model dir + state) via a temporary dir and rename; keep the newest `keep`.

    The temporary dir is removed whatever stops the write (a full disk, Ctrl-C, SIGTERM through the CLI);
    those of killed runs are swept here too.
    """
    root.mkdir(parents=True, exist_ok=True)
    sweep_stale(root)
    target = root / f"step_{state.step:08d}"
    try:
        with atomic_folder(target) as staging:
            save_model(staging / MODEL_DIR)
            payload = {"step": state.step, "optimizer": state.optimizer, "scheduler": state.scheduler, "extra": state.extra,
                       "torch_rng": torch.get_rng_state(), "python_rng": list(random.getstate()[1])}
            torch.save(payload, staging / STATE_FILE)
    except OSError as error:  # a full disk or a quota: one line; the previous checkpoints stay
        raise SarclipError(f"{target}: cannot write the training checkpoint ({error.strerror or error}); "
                           "is the disk full? --resume latest continues from the last complete one") from None
    for old in checkpoints(root)[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
    return target


def checkpoints(root: Path) -> list[Path]:
    """Complete step checkpoints under root, oldest first (temporary dirs of a killed run are ignored)."""
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if _STEP_DIR.match(p.name) and (p / STATE_FILE).is_file())


def resolve_resume(spec: str, root: Path) -> Path | None:
    """`latest` -> the newest checkpoint under root (None when there is none yet); else a checkpoint path."""
    if spec == "latest":
        found = checkpoints(root)
        return found[-1] if found else None
    path = Path(spec)
    if not (path / STATE_FILE).is_file():
        raise SarclipError(f"{path}: not a training checkpoint (no {STATE_FILE}); use --resume latest or a step_* dir")
    return path


def load_state(path: Path) -> TrainState:
    """Read a step checkpoint's state (weights_only: nothing arbitrary is unpickled)."""
    try:
        payload = torch.load(path / STATE_FILE, map_location="cpu", weights_only=True)
    except Exception as error:  # truncated or foreign file
        raise SarclipError(f"{path / STATE_FILE}: cannot read training state: {error}") from error
    missing = [key for key in STATE_KEYS if not isinstance(payload, dict) or key not in payload]
    if missing:
        raise SarclipError(f"{path / STATE_FILE}: not a complete training state (missing {', '.join(missing)})")
    try:  # checked before either random generator is touched, so a bad state changes nothing
        state = TrainState(int(payload["step"]), dict(payload["optimizer"]), dict(payload["scheduler"]),
                           dict(payload["extra"]))
        python_rng = (3, tuple(int(v) for v in payload["python_rng"]), None)
        random.Random().setstate(python_rng)
        torch.Generator().set_state(payload["torch_rng"])
    except (TypeError, ValueError, RuntimeError) as error:
        raise SarclipError(f"{path / STATE_FILE}: invalid training state: {error}") from None
    torch.set_rng_state(payload["torch_rng"])
    random.setstate(python_rng)
    return state
