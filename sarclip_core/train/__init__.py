"""`python -m sarclip_core.train`: stage 1 masked image modelling, stage 2 contrastive alignment, DDP, resume."""

from ..lazy import lazy_attributes

# imported on first use (they load PyTorch), so the command line reports bad input at once
__getattr__ = lazy_attributes(__name__, {"Trainer": ".loop", "build_parser": ".options", "parse_args": ".options"})

__all__ = ["Trainer", "build_parser", "parse_args"]
