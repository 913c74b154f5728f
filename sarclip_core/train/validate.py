"""Validation during training: image-text retrieval recall on held-out captioned images."""

from __future__ import annotations

import torch
from torch import nn

from ..data.images import read_chip
from ..data.manifest import Sample
from ..io import Normalisation
from ..model import AnyReader, encode_chips, encode_text


@torch.no_grad()
def retrieval_recall(model: nn.Module, reader: AnyReader, samples: list[Sample], normalisation: Normalisation,
                     channels: int) -> dict[str, float]:
    """Image->text and text->image R@1/R@5 and their mean; a hit is any caption of the right image."""
    chips = [read_chip(s.filepath, normalisation, channels) for s in samples]
    images = encode_chips(reader, chips)
    captions = [c for s in samples for c in s.captions]
    owner = torch.tensor([i for i, s in enumerate(samples) for _ in s.captions])
    texts = torch.cat([encode_text(model, captions[i:i + 256]) for i in range(0, len(captions), 256)])
    return recall_at(images @ texts.t(), owner, ks=(1, 5))


def recall_at(similarity: torch.Tensor, owner: torch.Tensor, ks: tuple[int, ...] = (1, 5, 10)) -> dict[str, float]:
    """Recalls from an (images, texts) similarity matrix where owner[t] is the image of text t."""
    out = {}
    for k in ks:
        top_texts = similarity.topk(min(k, similarity.shape[1]), dim=1).indices
        out[f"i2t_r{k}"] = float((owner[top_texts] == torch.arange(len(similarity))[:, None]).any(1).float().mean())
        top_images = similarity.t().topk(min(k, similarity.shape[0]), dim=1).indices
        out[f"t2i_r{k}"] = float((top_images == owner[:, None]).any(1).float().mean())
    out["mean_recall"] = sum(out.values()) / len(out)
    return out
