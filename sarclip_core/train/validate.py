"""Validation during training, through the evaluation suite: retrieval and zero-shot on held-out data."""

from __future__ import annotations

import argparse

from torch import nn

from ..evaluate import run_task
from ..io import Normalisation
from ..model import AnyReader, Checkpoint


def validation_metrics(args: argparse.Namespace, model: nn.Module, reader: AnyReader, config: dict,
                       normalisation: Normalisation, channels: int) -> dict[str, float]:
    """Mean retrieval recall on --val-data and zero-shot top-1 on --val-zeroshot, whichever were given."""
    checkpoint = Checkpoint(model, reader, config, normalisation, channels)
    metrics: dict[str, float] = {}
    if args.val_data:
        metrics.update({f"val_{k}": v for k, v in run_task("retrieval", checkpoint, data=args.val_data).items()})
    if args.val_zeroshot:
        zeroshot = run_task("zeroshot", checkpoint, data=args.val_zeroshot)
        metrics.update({"val_zeroshot_top1": zeroshot["top1"]})
    return metrics
