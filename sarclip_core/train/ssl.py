"""Stage 1: masked image modelling of the image tower on unlabelled SAR chips (SimMIM-style)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..model import AnyReader
from .losses import masked_reconstruction_loss


class MaskedImageModel(nn.Module):
    """Masks random patches (one encoder output cell each) and reconstructs their pixels from the feature map.

    The encoder is the CLIP image tower itself (any open_clip tower with forward_intermediates), so
    what it learns here is what stage 2 starts from; the linear pixel-shuffle decoder is thrown away.
    Masked pixels are set to 0, the mean of standardised chips.
    """

    def __init__(self, reader: AnyReader, in_channels: int, mask_ratio: float = 0.6):
        super().__init__()
        self.encoder = reader.encoder
        self._fit_channels = reader.fit_channels  # a bound method, not a submodule: fusion stays out of stage 1
        self.in_channels = in_channels
        self.mask_ratio = mask_ratio
        size = reader.native_size
        with torch.no_grad():
            probe = self._features(torch.zeros(1, in_channels, size, size))
        self.patch = size // probe.shape[-1]
        self.decoder = nn.Conv2d(probe.shape[1], in_channels * self.patch ** 2, kernel_size=1)

    def _features(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.stack([self._fit_channels(image) for image in x])
        out = self.encoder.forward_intermediates(x, indices=1, intermediates_only=True)
        return out["image_intermediates"][-1]

    def forward(self, images: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """The reconstruction loss of a (B, C, S, S) batch of native-size chips under a fresh random mask."""
        b, _, h, w = images.shape
        cells = torch.rand(b, 1, h // self.patch, w // self.patch, generator=generator) < self.mask_ratio
        mask = F.interpolate(cells.float(), scale_factor=self.patch, mode="nearest").to(images.device)
        prediction = F.pixel_shuffle(self.decoder(self._features(images * (1 - mask))), self.patch)
        return masked_reconstruction_loss(prediction, images, cells.to(images.device), self.patch)
