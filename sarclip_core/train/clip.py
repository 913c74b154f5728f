"""Stage 2: the contrastive step as one module (so DDP wraps it whole): AnyReader images, tokenised captions."""

from __future__ import annotations

import open_clip
import torch
import torch.nn.functional as F
from torch import nn

from ..model import AnyReader
from ..model.dense import feature_map, readout


class ClipStep(nn.Module):
    """Unit image and text features plus the logit scale, for a batch of any-size images and their captions."""

    def __init__(self, model: nn.Module, reader: AnyReader):
        super().__init__()
        self.model = model
        self.fusion = reader.fusion
        self._reader = [reader]  # in a list: the reader shares the model's tower, registering it twice would clash

    @property
    def reader(self) -> AnyReader:
        """The AnyReader over this module's own tower and fusion (also in a deep copy, e.g. a weight average)."""
        return self._reader[0]

    def tokenize(self, captions: list[str]) -> torch.Tensor:
        return open_clip.tokenize(captions, context_length=self.model.context_length)

    def forward(self, images: torch.Tensor | list[torch.Tensor], tokens: torch.Tensor,
                windows: torch.Tensor | None = None, class_tokens: torch.Tensor | None = None):
        """Image, text features and the scale; with native-size `windows` and `class_tokens` also their unit
        cell embeddings (n, g, g, D) (the dense readout the scene engine maps from) and class texts (K, D)."""
        image = F.normalize(self.reader(images).image, dim=-1)
        text = F.normalize(self.model.encode_text(tokens), dim=-1)
        if windows is None:
            return image, text, self.model.logit_scale.exp()
        x = torch.stack([self.reader.fit_channels(window) for window in windows])
        cells = F.normalize(readout(self.model.visual, feature_map(self.model.visual, x)), dim=-1)
        classes = F.normalize(self.model.encode_text(class_tokens), dim=-1)
        return image, text, self.model.logit_scale.exp(), cells, classes
