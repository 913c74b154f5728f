"""Small inference helpers: unit-length embeddings of texts and of normalised SAR chips."""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import open_clip
import torch
import torch.nn.functional as F
from torch import nn

from .anyreader import AnyReader


@torch.no_grad()
def encode_text(model: nn.Module, texts: Sequence[str], tokenizer: Callable | None = None) -> torch.Tensor:
    """(N, D) unit text embeddings; open_clip's BPE tokenizer at the model's context length unless given one."""
    tokenizer = tokenizer or (lambda batch: open_clip.tokenize(batch, context_length=model.context_length))
    device = next(model.parameters()).device
    return F.normalize(model.encode_text(tokenizer(list(texts)).to(device)), dim=-1)


@torch.no_grad()
def encode_chips(reader: AnyReader, chips: np.ndarray | Sequence[np.ndarray], batch_size: int = 64) -> torch.Tensor:
    """(N, D) unit image embeddings of normalised (C, H, W) float chips of any size, read by AnyReader."""
    parts = [reader([torch.as_tensor(chip, dtype=torch.float32) for chip in chips[start:start + batch_size]]).image
             for start in range(0, len(chips), batch_size)]
    return F.normalize(torch.cat(parts), dim=-1)
