"""Fixtures for the evaluation tests: a random-init checkpoint, tiny MSTAR folders, counting scenes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from sarclip_core.model import create_model, model_config, save_checkpoint

MSTAR = Path(__file__).resolve().parents[2] / "shared" / "data" / "mstar_soc17"
CLASSES = ("2S1", "BMP2", "T72")


def write_png(path: Path, size: int = 128, seed: int = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.random.default_rng(seed).integers(0, 255, (size, size), dtype=np.uint8)).save(path)
    return path


def copy_chips(target: Path, start: int, per_class: int) -> Path:
    """target/<CLASS>/ with per_class real MSTAR chips of each class, taken from the sorted list at start."""
    if not MSTAR.is_dir():
        pytest.skip(f"real data missing: {MSTAR}")
    for name in CLASSES:
        (target / name).mkdir(parents=True)
        for chip in sorted((MSTAR / name).iterdir())[start:start + per_class]:
            shutil.copy(chip, target / name / chip.name)
    return target


@pytest.fixture(scope="session")
def checkpoint_dir(tmp_path_factory) -> Path:
    return save_checkpoint(tmp_path_factory.mktemp("model") / "random", create_model("sarclip-tiny-rn"),
                           model_config("sarclip-tiny-rn"))


@pytest.fixture(scope="session")
def train_folder(tmp_path_factory) -> Path:
    return copy_chips(tmp_path_factory.mktemp("mstar") / "train", 0, 4)


@pytest.fixture(scope="session")
def test_folder(tmp_path_factory) -> Path:
    return copy_chips(tmp_path_factory.mktemp("mstar") / "test", 100, 2)


@pytest.fixture(scope="session")
def scenes(tmp_path_factory) -> Path:
    """A D2C-style records JSONL of three 256 px scenes (relative file paths) with their counts."""
    root = tmp_path_factory.mktemp("scenes")
    counts = [{"T72": 2, "BMP2": 1}, {"T72": 1}, {}]
    lines = []
    for number, count in enumerate(counts):
        write_png(root / "images" / f"scene{number}.png", 256, number)
        lines.append(json.dumps({"filepath": f"images/scene{number}.png", "width": 256, "height": 256,
                                 "counts": count, "captions": [f"scene {number}", "a SAR scene"]}))
    (root / "scenes.jsonl").write_text("\n".join(lines) + "\n")
    return root / "scenes.jsonl"
