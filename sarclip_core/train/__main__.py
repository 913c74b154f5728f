"""Command-line entry: `python -m sarclip_core.train` (also under `torchrun --nproc_per_node N -m ...`)."""

from __future__ import annotations

import logging
import sys
from typing import Sequence

from ..cli import run_cli
from .options import parse_args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the trainer's command line; returns the exit status (0, or 2 after a one-line error)."""
    # GDAL's libtiff notes on OpenSARShip chips ("ExtraSamples") are not the user's problem.
    logging.getLogger("rasterio._env").setLevel(logging.ERROR)
    def work() -> None:
        args = parse_args(argv)
        from .distributed import close_world, init_world  # PyTorch: only once the arguments are known to be good
        from .loop import Trainer

        world = init_world(args.device)
        try:
            Trainer(args, world).run()
        finally:
            close_world(world)

    return run_cli(work, "interrupted: the last complete checkpoint is kept; continue with --resume latest")


if __name__ == "__main__":
    sys.exit(main())
