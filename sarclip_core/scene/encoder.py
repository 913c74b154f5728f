"""Window embeddings from a loaded model: the same embedding AnyReader gives a chip, at one encoder pass."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import torch
import torch.nn.functional as F

from ..model import Checkpoint


class WindowEncoder:
    """Encodes batches of normalised windows (B, C, T, T), C the encoder's channels, into unit embeddings (B, D).

    A window of the encoder's native size is one AnyReader tile whose global view is the window
    itself, so its embedding is the fusion of the encoder output with itself: computed here from a
    single encoder pass instead of AnyReader's two. Other window sizes go through AnyReader.
    """

    def __init__(self, checkpoint: Checkpoint):
        self.checkpoint = checkpoint
        self.reader = checkpoint.reader
        self.native = self.reader.native_size
        self.device = next(self.reader.encoder.parameters()).device

    @torch.no_grad()
    def __call__(self, inputs: np.ndarray) -> np.ndarray:
        x = torch.from_numpy(np.ascontiguousarray(inputs, dtype=np.float32)).to(self.device)
        if x.shape[-1] != self.native or x.shape[-2] != self.native or not self.reader.enabled:
            return F.normalize(self.reader(list(x)).image, dim=-1).float().cpu().numpy()
        tiles = self.reader.encoder(x)
        no_padding = torch.zeros((len(tiles), 1), dtype=torch.bool, device=self.device)
        fused = self.reader.fusion(tiles, tiles[:, None], no_padding)
        return F.normalize(fused, dim=-1).float().cpu().numpy()


def model_identity(checkpoint: Checkpoint) -> str:
    """A digest of everything that decides window embeddings: image tower, fusion, normalisation, channels.

    The text tower is left out on purpose: a new text tower does not change stored image embeddings.
    """
    digest = hashlib.sha256()
    for module in (checkpoint.reader.encoder, checkpoint.reader.fusion):
        for name, tensor in sorted(module.state_dict().items()):
            digest.update(name.encode())
            digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    meta = {"normalisation": checkpoint.normalisation.to_dict(), "channels": checkpoint.channels,
            "enabled": checkpoint.reader.enabled}
    digest.update(json.dumps(meta, sort_keys=True).encode())
    return digest.hexdigest()
