"""Cell embeddings of scene windows from a loaded model, at one pass of the encoder's trunk."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import torch
import torch.nn.functional as F

from ..model import Checkpoint
from ..model.dense import dense_cells, has_dense_readout

WINDOW_CELLS = 4  # cells per side a window embedding is spread over for a tower without dense readout


class WindowEncoder:
    """Encodes batches of normalised windows (B, C, T, T), C the encoder's channels, into unit cell embeddings.

    A tower with a dense readout (model/dense.py) gives (B, h, h, D): one embedding per cell of its
    last feature map, from a single trunk pass. Any other tower gives its window embedding in each of
    WINDOW_CELLS x WINDOW_CELLS cells, so overlapping windows blend into the scene cells they share and
    maps resolve the window stride, as window-level maps did. A window of the encoder's native size is
    one AnyReader tile whose global view is the window itself, so its embedding is the fusion of the
    encoder output with itself, computed from a single encoder pass instead of AnyReader's two; other
    window sizes go through AnyReader.
    """

    def __init__(self, checkpoint: Checkpoint):
        self.checkpoint = checkpoint
        self.reader = checkpoint.reader
        self.native = self.reader.native_size
        self.device = next(self.reader.encoder.parameters()).device
        self.dense = has_dense_readout(self.reader.encoder)

    @torch.no_grad()
    def __call__(self, inputs: np.ndarray) -> np.ndarray:
        x = torch.from_numpy(np.ascontiguousarray(inputs, dtype=np.float32)).to(self.device)
        if self.dense:
            return dense_cells(self.reader.encoder, x).float().cpu().numpy()
        window = self._window(x)
        return np.broadcast_to(window[:, None, None], (len(window), WINDOW_CELLS, WINDOW_CELLS, window.shape[1]))

    def _window(self, x: torch.Tensor) -> np.ndarray:
        if x.shape[-1] != self.native or x.shape[-2] != self.native or not self.reader.enabled:
            return F.normalize(self.reader(list(x)).image, dim=-1).float().cpu().numpy()
        tiles = self.reader.encoder(x)
        no_padding = torch.zeros((len(tiles), 1), dtype=torch.bool, device=self.device)
        fused = self.reader.fusion(tiles, tiles[:, None], no_padding)
        return F.normalize(fused, dim=-1).float().cpu().numpy()

    def cell_shape(self, tile: int) -> tuple[int, int]:
        """(cells per side, embedding size) of a window of `tile` pixels."""
        probe = self(np.zeros((1, self.reader.channels, tile, tile), np.float32))
        return int(probe.shape[1]), int(probe.shape[-1])


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
