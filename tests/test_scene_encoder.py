"""WindowEncoder's one-pass shortcut for native-size windows gives what AnyReader gives for the same windows."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from sarclip_core.io import Normalisation
from sarclip_core.model import AnyReader, Checkpoint, create_model, model_config
from sarclip_core.scene.encoder import WINDOW_CELLS, WindowEncoder
from train_helpers import TINY_VIT


@pytest.fixture(scope="module")
def vit_checkpoint(tmp_path_factory) -> Checkpoint:
    """A tiny ViT (no dense readout, so windows go through the fusion) with a fusion that really mixes."""
    path = tmp_path_factory.mktemp("vit") / "tiny-vit-encoder.json"
    path.write_text(json.dumps(TINY_VIT), encoding="utf-8")
    torch.manual_seed(0)
    model = create_model(path).eval()
    reader = AnyReader.for_model(model).eval()
    with torch.no_grad():
        reader.fusion.gate.fill_(0.8)  # at its initial 0 the fusion returns the global view, whatever it computes
        for parameter in reader.fusion.attn.parameters():
            parameter.add_(torch.randn_like(parameter) * 0.2)
    return Checkpoint(model, reader, model_config(path), Normalisation(), channels=1)


def test_native_windows_match_anyreader(vit_checkpoint):
    windows = np.random.default_rng(1).normal(size=(3, 3, 128, 128)).astype(np.float32)
    cells = WindowEncoder(vit_checkpoint)(windows)
    assert cells.shape == (3, WINDOW_CELLS, WINDOW_CELLS, 64) and np.all(cells == cells[:, :1, :1])
    with torch.no_grad():
        expected = torch.nn.functional.normalize(vit_checkpoint.reader(list(torch.from_numpy(windows))).image, dim=-1)
        global_only = torch.nn.functional.normalize(vit_checkpoint.reader.encoder(torch.from_numpy(windows)), dim=-1)
    np.testing.assert_allclose(cells[:, 0, 0], expected.numpy(), atol=1e-5)
    assert not np.allclose(cells[:, 0, 0], global_only.numpy(), atol=1e-3)  # the fusion did change the embedding
