"""Shared helpers for the trainer tests: tiny real MSTAR data, CLI runs in- and out-of-process, weight comparison."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from paths import ROOT
from sarclip_core.d2c.__main__ import main as d2c_main
from sarclip_core.model import load_checkpoint
from sarclip_core.train.__main__ import main as train_main

MSTAR = ROOT.parent / "shared" / "data" / "mstar_soc17"
CLASSES = ("2S1", "BMP2", "T72", "ZSU234")
PER_CLASS = 4
# A BatchNorm-free tower: per-rank batch statistics cannot blur the DDP-vs-single-process comparison.
TINY_VIT = {"embed_dim": 64,
            "vision_cfg": {"image_size": 128, "layers": 2, "width": 64, "patch_size": 32, "head_width": 32},
            "text_cfg": {"context_length": 16, "vocab_size": 49408, "width": 64, "heads": 2, "layers": 1}}
FAST = ["--threads", "1", "--warmup", "2", "--seed", "3"]


def make_tiny_data(root: Path) -> dict[str, Path]:
    """16 real MSTAR chips (4 classes x 4) as a class folder, its D2C CSV + JSONL, and a tiny ViT config."""
    if not MSTAR.is_dir():
        pytest.skip(f"real data missing: {MSTAR}")
    folder = root / "chips"
    for name in CLASSES:
        (folder / name).mkdir(parents=True)
        for chip in sorted((MSTAR / name).glob("*.jpeg"))[:PER_CLASS]:
            shutil.copy(chip, folder / name / chip.name)
    csv, jsonl = root / "captions.csv", root / "captions.jsonl"
    assert d2c_main(["--format", "folder", "--images", str(folder), "--out", str(csv), "--jsonl", str(jsonl)]) == 0
    vit = root / "tiny-vit.json"
    vit.write_text(json.dumps(TINY_VIT), encoding="utf-8")
    return {"folder": folder, "csv": csv, "jsonl": jsonl, "vit": vit}


def train(*argv: str | Path) -> None:
    """`python -m sarclip_core.train ARGV` in this process (fast: no second torch import); must succeed."""
    assert train_main([str(a) for a in (*argv, *FAST)]) == 0


def env() -> dict[str, str]:
    """Environment for CLI subprocesses: this checkout importable from any working directory, one thread."""
    return {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}


def cli(*argv: str | Path, cwd: Path, launcher: tuple[str, ...] = (sys.executable,)) -> subprocess.Popen:
    """Start `<launcher> -m sarclip_core.train ARGV` (stdout+stderr captured as text)."""
    return subprocess.Popen([*launcher, "-m", "sarclip_core.train", *map(str, argv), *FAST], cwd=cwd, env=env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def weights(directory: Path) -> dict[str, torch.Tensor]:
    """Open_clip weights of a SARCLIP checkpoint directory."""
    return load_checkpoint(directory).model.state_dict()


def steps(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "steps.jsonl").read_text(encoding="utf-8").splitlines()]


def changed(before: dict[str, torch.Tensor], after: dict[str, torch.Tensor], prefix: str = "") -> set[str]:
    """Names (under prefix) of float tensors that differ between two state dicts."""
    return {k for k, v in before.items()
            if k.startswith(prefix) and v.is_floating_point() and not torch.equal(v, after[k])}
