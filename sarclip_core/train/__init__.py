"""`python -m sarclip_core.train`: stage 1 masked image modelling, stage 2 contrastive alignment, DDP, resume."""

from .loop import Trainer
from .options import build_parser, parse_args

__all__ = ["Trainer", "build_parser", "parse_args"]
