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


def dense_loss(cells: torch.Tensor, classes: torch.Tensor, targets: torch.Tensor, logit_scale: torch.Tensor,
               objects: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of every labelled cell over the class texts, object cells and background cells weighted equally.

    cells (n, g, g, D) and classes (K, D) are unit embeddings; targets (n, g, g, K) bool marks each cell's
    positive classes (none: not trained on); objects (K,) bool marks object classes. Object cells are a few
    percent of a window, so without the balance "everything is sea" would be a cheap minimum.
    """
    labelled = targets.any(dim=-1)
    logits = (logit_scale * cells @ classes.t())[labelled]
    positives = targets[labelled]
    losses = torch.sum(-(positives.float() / positives.sum(dim=1, keepdim=True)) * F.log_softmax(logits, dim=1), dim=1)
    is_object = (positives & objects.to(positives.device)).any(dim=1)
    parts = [losses[mask].mean() for mask in (is_object, ~is_object) if mask.any()]
    return torch.stack(parts).mean() if parts else cells.sum() * 0.0


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
