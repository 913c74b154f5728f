"""Training objectives: a group-aware CLIP loss and a masked-image reconstruction loss."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def contrastive_loss(image: torch.Tensor, text: torch.Tensor, logit_scale: torch.Tensor,
                     groups: torch.Tensor | None = None, captions: torch.Tensor | None = None,
                     true_pairs: torch.Tensor | None = None) -> torch.Tensor:
    """Symmetric InfoNCE over unit image/text features (N, D).

    Pairs from the same group (same class set) or with the same caption text (ids in `captions`)
    are all positives (UniCL-style soft targets) instead of being pushed apart as plain CLIP would:
    a generic caption such as "one vehicle seen by radar" drawn for two images is right for both.
    `true_pairs` (N, N) bool, image i with text j, adds further pairs known to be right (it may be
    asymmetric: "an APC" is right for a BTR70 chip though drawn for a BTR60 one, not the reverse of
    "a BTR60").
    """
    logits = logit_scale * image @ text.t()
    targets = torch.eye(len(image), device=image.device, dtype=torch.bool)
    for ids in (groups, captions):
        if ids is not None:
            ids = ids.to(image.device)
            targets |= ids[:, None] == ids[None, :]
    if true_pairs is not None:
        targets |= true_pairs.to(image.device)
    return (_soft_cross_entropy(logits, targets) + _soft_cross_entropy(logits.t(), targets.t())) / 2


def _soft_cross_entropy(logits: torch.Tensor, positives: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of each row against the uniform distribution over its positives."""
    targets = positives.float() / positives.sum(dim=1, keepdim=True)
    return torch.sum(-targets * F.log_softmax(logits, dim=1), dim=1).mean()


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
