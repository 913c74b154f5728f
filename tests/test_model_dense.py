"""Dense readout (MaskCLIP): cell embeddings live in the pooled embedding's space."""

from __future__ import annotations

import torch

from sarclip_core.model import create_model
from sarclip_core.model.dense import cells_and_pooled, dense_cells, has_dense_readout


def test_uniform_cells_read_out_the_attention_pooled_embedding():
    torch.manual_seed(0)
    visual = create_model("sarclip-tiny-rn").visual.eval()
    with torch.no_grad():
        visual.attnpool.positional_embedding.fill_(0.3)  # the same at every position
        x = torch.full((2, 3, 128, 128), 0.7)  # a flat window: every cell holds the same feature
        x[1] = -0.2
        cells, pooled = cells_and_pooled(visual, x)
    assert cells.shape == (2, 4, 4, pooled.shape[1])
    for image in range(2):
        assert torch.allclose(cells[image, 1, 2], pooled[image], atol=1e-4)  # an inner cell: no zero-padding border


def test_a_bright_target_changes_only_the_cells_that_see_it():
    torch.manual_seed(0)
    visual = create_model("sarclip-tiny-rn").visual.eval()
    x = torch.randn(1, 3, 256, 256) * 0.1
    y = x.clone()
    y[:, :, 200:212, 200:212] = 4.0  # a target in cell (6, 6) of an 8x8 grid
    with torch.no_grad():
        before, after = dense_cells(visual, x)[0], dense_cells(visual, y)[0]
    change = (before - after).norm(dim=-1)
    assert change[6, 6] > 1e-3 and change[:3, :3].max() < 1e-5  # far cells do not see it


def test_towers_without_an_attention_pool_have_no_dense_readout():
    assert has_dense_readout(create_model("sarclip-tiny-rn").visual)
    assert dense_cells(torch.nn.Conv2d(3, 8, 3), torch.zeros(1, 3, 32, 32)) is None
