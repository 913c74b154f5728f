"""AnyReader: a fixed-size image encoder reads images of any size as native tiles plus a global view."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils.rnn import pad_sequence

from ..io import channel_mixing


@dataclass
class Reading:
    """What AnyReader saw: one embedding per image, plus per-tile embeddings and their pixel boxes."""

    image: Tensor  # (B, D)
    tiles: list[Tensor]  # per image (n_i, D)
    boxes: list[Tensor]  # per image (n_i, 4) int64: col, row, width, height of the valid pixels


class TileFusion(nn.Module):
    """Attention pooling of tile embeddings queried by the global embedding; a zero gate starts as the global view."""

    def __init__(self, dim: int, heads: int = 4):
        super().__init__()
        self.norm_query = nn.LayerNorm(dim)
        self.norm_tiles = nn.LayerNorm(dim)
        self.attn = nn.MultiheadAttention(dim, heads, batch_first=True)
        self.gate = nn.Parameter(torch.zeros(()))

    def forward(self, global_emb: Tensor, tiles: Tensor, padding: Tensor) -> Tensor:
        """Fuse (B, D) global and (B, N, D) tile embeddings; `padding` (B, N) is True where there is no tile."""
        query = self.norm_query(global_emb)[:, None]
        keys = self.norm_tiles(tiles)
        pooled, _ = self.attn(query, keys, keys, key_padding_mask=padding, need_weights=False)
        return global_emb + torch.tanh(self.gate) * pooled[:, 0]


class AnyReader(nn.Module):
    """Reads images of any size with the model's low-resolution image encoder (tiles + global view, fused).

    Tiles are native-size windows in row-major order; the remainder is zero-padded (the mean of
    standardised chips), never resampled. With enabled=False the image is only resized to native
    size, so AnyReader's effect can be measured. Input channels are mapped onto the encoder's with
    `sarclip_core.io.fit_channels` (1 -> repeated, 2 -> (c0, c1, mean)).
    """

    def __init__(self, encoder: nn.Module, native_size: int, dim: int, channels: int = 3, heads: int = 4,
                 enabled: bool = True, chunk: int = 64):
        super().__init__()
        self.encoder = encoder
        self.fusion = TileFusion(dim, heads)
        self.native_size = native_size
        self.channels = channels
        self.enabled = enabled
        self.chunk = chunk

    @classmethod
    def for_model(cls, model: nn.Module, heads: int = 4, enabled: bool = True, chunk: int = 64) -> "AnyReader":
        """An AnyReader around an open_clip model's image tower (model.visual)."""
        visual = model.visual
        size = visual.image_size if isinstance(visual.image_size, int) else visual.image_size[0]
        first_conv = next(m for m in visual.modules() if isinstance(m, nn.Conv2d))
        return cls(visual, size, visual.output_dim, first_conv.in_channels, heads, enabled, chunk)

    def forward(self, images: Tensor | Sequence[Tensor]) -> Reading:
        """Embed a batch (B, C, H, W) or a list of (C, H, W) images of any sizes."""
        device = next(self.encoder.parameters()).device
        images = [self.fit_channels(x.to(device=device, dtype=torch.float32)) for x in images]
        views = torch.stack([self._resize(x) for x in images])
        if not self.enabled:
            image = self._encode(views)
            boxes = [torch.tensor([[0, 0, x.shape[2], x.shape[1]]]) for x in images]
            return Reading(image, list(image[:, None]), boxes)
        tiles, boxes = zip(*(self._tile(x) for x in images))
        counts = [len(t) for t in tiles]
        # A native-size image is its own single tile: encode it once and reuse it as its tile.
        native = [tuple(x.shape[1:]) == (self.native_size, self.native_size) for x in images]
        extra = [t for t, is_native in zip(tiles, native) if not is_native]
        encoded = self._encode(torch.cat([views, *extra]))
        global_emb, extra_emb = encoded[:len(images)], iter(encoded[len(images):].split(
            [len(t) for t in extra]))
        tile_emb = [global_emb[i:i + 1] if is_native else next(extra_emb) for i, is_native in enumerate(native)]
        padding = torch.arange(max(counts), device=device)[None] >= torch.tensor(counts, device=device)[:, None]
        image = self.fusion(global_emb, pad_sequence(tile_emb, batch_first=True), padding)
        return Reading(image, list(tile_emb), list(boxes))

    def _encode(self, x: Tensor) -> Tensor:
        return torch.cat([self.encoder(part) for part in x.split(self.chunk)])

    def fit_channels(self, x: Tensor) -> Tensor:
        """Map a (C, H, W) SAR image onto the encoder's input channels (io.fit_channels, as a tensor op)."""
        if x.shape[0] == self.channels:
            return x
        mix = channel_mixing(x.shape[0], self.channels)
        return torch.einsum("oc,chw->ohw", torch.from_numpy(np.ascontiguousarray(mix)).to(x), x)

    def _resize(self, x: Tensor) -> Tensor:
        size = self.native_size
        if x.shape[1:] == (size, size):
            return x
        return F.interpolate(x[None], size=(size, size), mode="bilinear", antialias=True, align_corners=False)[0]

    def _tile(self, x: Tensor) -> tuple[Tensor, Tensor]:
        channels, height, width = x.shape
        size = self.native_size
        rows, cols = math.ceil(height / size), math.ceil(width / size)
        x = F.pad(x, (0, cols * size - width, 0, rows * size - height))
        tiles = x.reshape(channels, rows, size, cols, size).permute(1, 3, 0, 2, 4).reshape(-1, channels, size, size)
        top, left = torch.meshgrid(torch.arange(rows) * size, torch.arange(cols) * size, indexing="ij")
        boxes = torch.stack([left, top, (width - left).clamp(max=size), (height - top).clamp(max=size)], -1)
        return tiles, boxes.reshape(-1, 4)
