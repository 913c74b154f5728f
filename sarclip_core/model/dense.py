"""Dense readout: one embedding per cell of the image tower's last feature map, in the text's space.

For a ResNet tower with attention pooling (open_clip's ModifiedResNet, the shipped tower), each cell of
the last feature map goes through the pool's value and output projections, skipping the attention
between cells (the MaskCLIP readout, Zhou et al. 2022). Attention pooling is a weighted mean of exactly
these per-cell values (plus positional terms), so a cell's embedding lives where the pooled window
embedding lives: "ship" text lands on ship cells. The mean positional embedding is added to every cell;
where positions do not vary, a window whose cells all hold the same feature reads out exactly its pooled
embedding (the check in the tests).

Towers without such a pool (ViT, timm) have no dense readout here: `dense_cells` returns None and the
scene engine keeps window-level maps.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn


def has_dense_readout(visual: nn.Module) -> bool:
    """True for a ModifiedResNet-style tower: stem + layer1..4 + an attention pool with v/c projections."""
    pool = getattr(visual, "attnpool", None)
    return all(hasattr(visual, name) for name in ("stem", "layer1", "layer4")) and \
        all(hasattr(pool, name) for name in ("v_proj", "c_proj", "positional_embedding"))


def feature_map(visual: nn.Module, x: Tensor) -> Tensor:
    """The tower's last feature map (B, C, H/32, W/32) for input (B, 3, H, W)."""
    x = visual.stem(x.to(visual.conv1.weight.dtype))
    return visual.layer4(visual.layer3(visual.layer2(visual.layer1(x))))


def readout(visual: nn.Module, features: Tensor) -> Tensor:
    """(B, h, w, D) cell embeddings (not normalised) of a feature map (B, C, h, w)."""
    pool = visual.attnpool
    x = features.permute(0, 2, 3, 1) + pool.positional_embedding[1:].mean(dim=0).to(features.dtype)
    return F.linear(F.linear(x, pool.v_proj.weight, pool.v_proj.bias), pool.c_proj.weight, pool.c_proj.bias)


def dense_cells(visual: nn.Module, x: Tensor) -> Tensor | None:
    """(B, h, w, D) unit cell embeddings of input (B, 3, H, W), or None for a tower without a dense readout."""
    if not has_dense_readout(visual):
        return None
    return F.normalize(readout(visual, feature_map(visual, x)), dim=-1)


def cells_and_pooled(visual: nn.Module, x: Tensor) -> tuple[Tensor, Tensor]:
    """Cell embeddings (B, h, w, D) and the tower's own pooled embedding (B, D), from one pass of the trunk."""
    features = feature_map(visual, x)
    return readout(visual, features), visual.attnpool(features)
