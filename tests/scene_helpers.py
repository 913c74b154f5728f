"""Shared helpers for scene tests: a composed MSTAR scene with known target boxes."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import open_clip
import torch

from paths import DATA
from raster_helpers import write_raster
from sarclip_core.d2c.compose import ChipLibrary, ComposeSettings, compose_scene
from sarclip_core.io import Normalisation
from sarclip_core.model import AnyReader, Checkpoint, create_model, model_config

MSTAR = DATA / "mstar_soc17"


def composed_scene(path: Path, classes: tuple[str, ...] = ("T72", "BMP2"), size: int = 512, seed: int = 3):
    """A uint8 GeoTIFF of real MSTAR targets pasted into real MSTAR clutter, and the targets' boxes (pixels)."""
    library = ChipLibrary(MSTAR, {})
    library.paths = {label: library.paths[label] for label in classes}
    scene, boxes = compose_scene(library, ComposeSettings(size=size, max_objects=8, empty_share=0.0), random.Random(seed))
    write_raster(path, np.clip(scene, 0, 255).astype(np.uint8))
    return path, boxes


class BrightScatterers(torch.nn.Module):
    """A stand-in image tower that knows one thing: how much of a window is bright point scatterers.

    Its embedding turns from direction u (plain clutter) towards v (strong scatterers, i.e. targets)
    with the share of pixels above 3 sd (dB, standardised per window). With it, "a query known to match" exists without a trained
    model, so the pointing game tests the scene pipeline's geometry (windows, blending, peaks).
    """

    def __init__(self, size: int = 128, dim: int = 256):
        super().__init__()
        self.image_size, self.output_dim = size, dim
        self.stem = torch.nn.Conv2d(3, 1, 1, bias=False)  # AnyReader reads the input channels from here
        basis = torch.linalg.qr(torch.randn(dim, 2, generator=torch.Generator().manual_seed(0)))[0].T
        self.register_buffer("basis", basis)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        share = (x.mean(dim=1) > 3.0).float().mean(dim=(1, 2)).clamp(max=0.0088) / 0.0088  # 1.0 = one whole 12x12 target
        return (1 - share)[:, None] * self.basis[0] + share[:, None] * self.basis[1]


class _Share(torch.nn.Module):
    """Per 32 px cell: the share of bright pixels (> 3 sd), 1.0 for a whole 12x12 target, as a (B, 1, h, w) map."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        bright = (x.mean(dim=1, keepdim=True) > 3.0).float()
        return (torch.nn.functional.avg_pool2d(bright, 32) / (144 / 1024)).clamp(max=1.0)


class BrightCells(torch.nn.Module):
    """BrightScatterers with a dense readout: the shape of open_clip's ModifiedResNet (stem, layer1..4, attnpool
    with v/c projections) whose last feature map holds each 32 px cell's bright share s, read out as the
    direction (1 - s) u + s v. So a cell's embedding says whether a target lies in that very cell."""

    def __init__(self, size: int = 128, dim: int = 256):
        super().__init__()
        self.image_size, self.output_dim = size, dim
        self.conv1 = torch.nn.Conv2d(3, 1, 1, bias=False)  # AnyReader reads the input channels from here
        self.stem = _Share()
        self.layer1 = self.layer2 = self.layer3 = self.layer4 = torch.nn.Identity()
        basis = torch.linalg.qr(torch.randn(dim, 2, generator=torch.Generator().manual_seed(0)))[0].T
        self.register_buffer("basis", basis)
        self.attnpool = torch.nn.Module()
        self.attnpool.positional_embedding = torch.nn.Parameter(torch.zeros((size // 32) ** 2 + 1, 1))
        self.attnpool.v_proj = torch.nn.Linear(1, 2)  # s -> (1 - s, s)
        self.attnpool.c_proj = torch.nn.Linear(2, dim)  # -> (1 - s) u + s v
        with torch.no_grad():
            self.attnpool.v_proj.weight.copy_(torch.tensor([[-1.0], [1.0]]))
            self.attnpool.v_proj.bias.copy_(torch.tensor([1.0, 0.0]))
            self.attnpool.c_proj.weight.copy_(basis.T)
            self.attnpool.c_proj.bias.zero_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        share = self.stem(x).amax(dim=(1, 2, 3))
        return (1 - share)[:, None] * self.basis[0] + share[:, None] * self.basis[1]


def oracle_checkpoint(visual: torch.nn.Module | None = None) -> Checkpoint:
    """A Checkpoint whose image tower is BrightScatterers, or `visual` (text tower: the random tiny one)."""
    model = create_model("sarclip-tiny-rn").eval()
    model.visual = visual or BrightScatterers()
    return Checkpoint(model, AnyReader.for_model(model).eval(), model_config("sarclip-tiny-rn"), Normalisation(), 1)


def ship_oracle_checkpoint(visual: torch.nn.Module | None = None) -> Checkpoint:
    """oracle_checkpoint with a stand-in text tower too: texts naming a ship point at the tower's target
    direction, every other text (background prompts) at its clutter direction. With it a text query "ship"
    is known to match bright targets, so scene tasks can be checked end to end without a trained model."""
    checkpoint = oracle_checkpoint(visual)
    basis = checkpoint.model.visual.basis
    words = torch.tensor([open_clip.tokenize([word])[0, 1].item() for word in ("ship", "ships", "vessel", "boat")])

    def encode_text(tokens: torch.Tensor) -> torch.Tensor:
        named = torch.isin(tokens, words).any(dim=1).float()[:, None]
        return named * basis[1] + (1 - named) * basis[0]

    object.__setattr__(checkpoint.model, "encode_text", encode_text)  # an instance attribute wins over the method
    return checkpoint


def speckle_scene(path: Path, targets: list[tuple[int, int]], size: int = 512, seed: int = 0, **raster) -> Path:
    """Float32 intensity speckle (mean 1) with 12x12 px point-scatterer targets (+20 dB) at (col, row) corners."""
    rng = np.random.default_rng(seed)
    scene = rng.exponential(1.0, (size, size)).astype(np.float32)
    for col, row in targets:
        scene[row:row + 12, col:col + 12] = 100.0
    return write_raster(path, scene, descriptions=["sigma0 intensity"], **raster)
