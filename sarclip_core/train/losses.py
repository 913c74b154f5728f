"""Training objectives: a group-aware CLIP loss and a masked-image reconstruction loss."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def contrastive_loss(image: torch.Tensor, text: torch.Tensor, logit_scale: torch.Tensor,
                     groups: torch.Tensor | None = None, captions: torch.Tensor | None = None) -> torch.Tensor:
    """Symmetric InfoNCE over unit image/text features (N, D).

    Pairs from the same group (same class set) or with the same caption text (ids in `captions`)
    are all positives (UniCL-style soft targets) instead of being pushed apart as plain CLIP would:
    a generic caption such as "one vehicle seen by radar" drawn for two images is right for both.
    """
    logits = logit_scale * image @ text.t()
    targets = torch.eye(len(image), device=image.device, dtype=torch.bool)
    for ids in (groups, captions):
        if ids is not None:
            ids = ids.to(image.device)
            targets |= ids[:, None] == ids[None, :]
    targets = targets.float() / targets.sum(dim=1, keepdim=True)
    image_loss = torch.sum(-targets * F.log_softmax(logits, dim=1), dim=1).mean()
    text_loss = torch.sum(-targets.t() * F.log_softmax(logits.t(), dim=1), dim=1).mean()
    return (image_loss + text_loss) / 2


def masked_reconstruction_loss(prediction: torch.Tensor, target: torch.Tensor, mask: torch.Tensor,
                               patch: int) -> torch.Tensor:
    """Mean squared error on masked patches only, each target patch normalised to zero mean, unit std (MAE)."""
    b, c, h, w = target.shape

    def patches(x: torch.Tensor) -> torch.Tensor:
        return x.reshape(b, c, h // patch, patch, w // patch, patch).permute(0, 2, 4, 1, 3, 5).reshape(
            b, (h // patch) * (w // patch), -1)

    pred, tgt = patches(prediction), patches(target)
    tgt = (tgt - tgt.mean(dim=-1, keepdim=True)) / (tgt.var(dim=-1, keepdim=True) + 1e-6).sqrt()
    per_patch = ((pred - tgt) ** 2).mean(dim=-1)
    weights = mask.reshape(b, -1).float()
    return (per_patch * weights).sum() / weights.sum().clamp(min=1.0)
