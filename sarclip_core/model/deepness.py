"""The image encoder as a Deepness "Recognition" model (DEEPNESS_FILE), so Deepness users can search a map with it.

Deepness (a QGIS plugin for ONNX models) cuts a raster into tiles of the graph's input size, scales each
tile's pixels to 0..1 (divides by 255), optionally standardises them with fixed numbers from the model's
metadata, and takes the graph's one output as the tile's embedding; a Recognition run compares every tile's
embedding with a query image's (cosine similarity). SARCLIP's own input is different: each window's values
are converted to dB and standardised on that window alone (io.convert.to_model_input). That standardisation
is what makes a Deepness graph possible: a linear scale or gain on amplitude or intensity is only an offset
in dB, and standardising removes it. So the graph takes linear pixels (an 8-bit quick-look or amplitude)
as Deepness feeds them, and does inside it what the engine does before the encoder: log with the engine's
amplitude floor for a zero (placed for values divided by 255, as Deepness divides them), per-window
standardisation, the clip, the channel mapping, then the encoder, AnyReader's fusion of a native-size chip,
and unit length. Every pixel counts, a NaN as a zero: Deepness has no no-data mask. Linear intensity works
too, except that values below -30 dB (a zero's floor in amplitude) are held there; rasters already in dB
(negative values) are not linear and are not for this graph: SARCLIP's own tools detect the value kind.

Only checkpoints normalised the default way (dB, standardise) can be written this way; others get no file.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..io import Normalisation, channel_mixing
from ..io.convert import DB_FLOOR

DEEPNESS_FILE = "deepness_recognition.onnx"
FLOOR = 10 ** (DB_FLOOR / 20) / 255  # the engine's floor for 8-bit amplitude (a zero), on Deepness's 0..1 scale


def can_export(normalisation: Normalisation) -> bool:
    """Whether a checkpoint's input normalisation is one a graph fed linear pixels in any scale can reproduce."""
    return normalisation.domain == "db" and normalisation.method == "standardise"


class RecognitionGraph(nn.Module):
    """Linear SAR tiles (B, C, S, S) in any scale -> unit image embeddings (B, D), as read_chip and AnyReader give
    for a native-size chip (`fusion`: AnyReader's tile fusion with the chip as its one tile; None when disabled)."""

    def __init__(self, encoder: nn.Module, fusion: nn.Module | None, clip: float, channels: int, encoder_channels: int):
        super().__init__()
        self.encoder, self.fusion, self.clip = encoder, fusion, clip
        mapping = channel_mixing(channels, encoder_channels)  # io.fit_channels, as a matrix
        self.register_buffer("mapping", torch.from_numpy(np.ascontiguousarray(mapping)))

    def forward(self, tiles: Tensor) -> Tensor:
        linear = torch.nan_to_num(tiles, nan=0.0, posinf=0.0, neginf=0.0)  # no data as a zero, not a NaN tile
        level = torch.log(linear.clamp_min(FLOOR))  # dB up to a factor; the standardisation removes factor and offset
        mean = level.mean(dim=(2, 3), keepdim=True)
        spread = ((level - mean) ** 2).mean(dim=(2, 3), keepdim=True).sqrt()
        spread = torch.where(spread > 0, spread, torch.ones_like(spread))
        scaled = ((level - mean) / spread).clamp(-self.clip, self.clip)
        embedding = self.encoder(torch.einsum("oc,bchw->bohw", self.mapping, scaled))
        if self.fusion is not None:  # AnyReader: a native-size chip is its own single tile
            embedding = self.fusion(embedding, embedding[:, None], torch.zeros_like(embedding[:, :1], dtype=torch.bool))
        return F.normalize(embedding, dim=-1)


def metadata(overlap: float) -> dict[str, str]:
    """The Deepness metadata (values JSON-encoded, as Deepness reads them): a Recognition model and the tile
    overlap the scene engine uses, in percent."""
    return {"model_type": json.dumps("Recognition"), "tiles_overlap": json.dumps(round(100 * overlap))}


def write_metadata(path: Path, overlap: float) -> None:
    """Add the Deepness metadata to the Recognition graph written at `path`."""
    model = onnx.load(str(path))
    for key, value in metadata(overlap).items():
        model.metadata_props.add(key=key, value=value)
    onnx.save(model, str(path))
