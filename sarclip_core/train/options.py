"""Command-line flags (named as in open_clip's trainer) and a YAML/JSON --config whose keys mirror them."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Sequence

from ..configs import read_config
from ..errors import SarclipError
from ..files import check_writable_place

INPUT_OPTIONS = ("train_data", "val_data", "val_zeroshot")  # manifests or folders, several joined with '::'


def build_parser() -> argparse.ArgumentParser:
    """The trainer's flags (open_clip's names where they mean the same)."""
    p = argparse.ArgumentParser(
        prog="python -m sarclip_core.train",
        description="Train SARCLIP: stage 1 self-supervised masked image modelling (--stage ssl), "
                    "stage 2 contrastive image-text alignment (--stage clip). Run under torchrun for DDP.")
    p.add_argument("--config", help="YAML or JSON file whose keys mirror these flags (flags given here win)")
    p.add_argument("--stage", choices=("ssl", "clip"), default="clip")
    p.add_argument("--train-data", help="filepath,caption[,label] CSV or D2C JSONL; for --stage ssl also a folder")
    p.add_argument("--val-data", help="CSV/JSONL of held-out images+captions: retrieval recall each epoch")
    p.add_argument("--val-zeroshot", help="class-folder of held-out images: zero-shot top-1 each epoch")
    p.add_argument("--model", help="open_clip architecture name or JSON config file "
                                   "(default: the bundled model's architecture)")
    p.add_argument("--pretrained", help="start from: an open_clip tag, a .pt/.safetensors file, or a SARCLIP "
                                        "checkpoint dir (e.g. stage 1's output)")
    p.add_argument("--batch-size", type=int, default=64, help="per process and per accumulation step")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--max-steps", type=int, help="stop after this many optimiser steps (smoke runs)")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--wd", type=float, default=0.1)
    p.add_argument("--warmup", type=int, default=100, help="linear warm-up steps before cosine decay")
    p.add_argument("--precision", choices=("fp32", "amp_bf16", "amp"), default="fp32",
                   help="as in open_clip: amp_bf16 autocasts to bfloat16 (CPU or CUDA); amp autocasts to float16 "
                        "with a gradient scaler (CUDA only)")
    p.add_argument("--threads", type=int, help="torch CPU threads per process (default: torch's choice)")
    p.add_argument("--device", help="cpu or cuda (default: cuda when available)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--resume", help="'latest' (this run's newest checkpoint, if any) or a step_* checkpoint dir")
    p.add_argument("--logs", "--logs-dir", dest="logs", default="./logs",
                   help="where runs are written (under torchrun use --logs-dir: torchrun takes --logs for its own)")
    p.add_argument("--name", help="run name (default: <stage>-<model>)")
    p.add_argument("--accum-freq", type=int, default=1, help="micro-batches per step, contrastive features cached")
    p.add_argument("--save-every-n-steps", type=int, help="also checkpoint every N steps (besides every epoch)")
    p.add_argument("--model-ema", action="store_true",
                   help="stage 2: validate and ship an exponential moving average of the weights (timm's ModelEmaV3)")
    p.add_argument("--model-ema-decay", type=float, default=0.998, help="the moving average's decay (after warm-up)")
    p.add_argument("--lock-text", action="store_true", help="freeze the text tower")
    p.add_argument("--lock-image", action="store_true", help="freeze the image tower (AnyReader fusion still learns)")
    p.add_argument("--no-anyreader", dest="anyreader", action="store_false",
                   help="plain resize to the native size instead of AnyReader tiles (ablation)")
    p.add_argument("--group-by", choices=("written", "label", "caption", "none"), default="written",
                   help="which batch items count as positives of each other: 'written' (default): same "
                        "label/class set, same caption text, or a caption written for some image with the same "
                        "objects in the training data; 'label': same class set or same caption text; same "
                        "caption text only; or none (plain CLIP)")
    p.add_argument("--channels", type=int, default=1, help="SAR channels the model reads (1: single pol, 2: dual)")
    p.add_argument("--norm-domain", choices=("db", "linear"), default="db",
                   help="values standardised per chip in decibels or as linear amplitude; recorded with the model "
                        "(a --pretrained SARCLIP checkpoint brings its own)")
    p.add_argument("--dense-weight", type=float, default=0.0,
                   help="stage 2: weight of the dense cell loss on windows with dense truth (D2C --windows records "
                        "with sea/land or water masks, composed clutter); 0 = chip-level contrastive loss only")
    p.add_argument("--count-weight", type=float, default=0.0,
                   help="stage 2: weight of the wrong-number hard-negative loss on captions stating a count "
                        "(CountCLIP: 'three tanks' against 'five tanks'); 0 = off")
    p.add_argument("--mask-ratio", type=float, default=0.6, help="stage 1: share of patches masked")
    p.add_argument("--shift", type=int, default=8, help="augmentation: random shift in pixels")
    p.add_argument("--skip-bad", action="store_true", help="skip bad rows and unreadable images (listed in the log)")
    p.add_argument("--labels", help="comma-separated label vocabulary recorded with the model")
    p.add_argument("--out", help="also write the final model checkpoint to this directory (a new or empty folder, "
                                 "or with --overwrite an earlier checkpoint; any other folder or a file is refused)")
    p.add_argument("--overwrite", action="store_true", help="replace the checkpoint already in --out, whole")
    p.add_argument("--save-dtype", choices=("fp32", "fp16"), default="fp32", help="weights dtype of --out")
    return p


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Flags over --config over defaults; a config key that is not a flag is an error."""
    parser = build_parser()
    first, _ = parser.parse_known_args(argv)
    if first.config:
        parser.set_defaults(**config_defaults(Path(first.config), parser))
    args = parser.parse_args(argv)
    if not args.train_data:
        raise SarclipError("--train-data is required (flag or config key)")
    if args.batch_size < 1 or args.epochs < 1 or args.accum_freq < 1:
        raise SarclipError("--batch-size, --epochs and --accum-freq must be at least 1")
    check_inputs(args)
    logs = Path(args.logs)
    if logs.exists() and not logs.is_dir():
        raise SarclipError(f"{logs}: --logs is a file, not a folder")
    check_writable_place(logs / "run", "--logs")  # a read-only place is one line now, not a traceback later
    from ..model import DEFAULT_MODEL  # PyTorch: only once the inputs are known to be there
    from ..model.checkpoint import check_checkpoint_target

    args.model = args.model or DEFAULT_MODEL
    if args.out:  # checked before any training work, not found out when the final model is written
        check_checkpoint_target(args.out, args.overwrite, "--out")
    args.name = args.name or f"{args.stage}-{Path(str(args.model)).stem}"
    return args


def check_inputs(args: argparse.Namespace) -> None:
    """A missing training or validation source is one line at once, before PyTorch loads."""
    for option in INPUT_OPTIONS:
        for part in str(getattr(args, option) or "").split("::"):
            if part and not Path(part).exists():
                raise SarclipError(f"{part}: --{option.replace('_', '-')} not found")


def config_defaults(path: Path, parser: argparse.ArgumentParser) -> dict:
    """A --config file's flag values (names with or without dashes), refused if it names an unknown flag."""
    known = {action.dest for action in parser._actions}
    values = {str(k).lstrip("-").replace("-", "_"): v for k, v in read_config(path).items()}
    unknown = sorted(set(values) - known)
    if unknown:
        raise SarclipError(f"{path}: unknown config keys {unknown}")
    return values
