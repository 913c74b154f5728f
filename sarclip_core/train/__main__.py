"""Command-line entry: `python -m sarclip_core.train` (also under `torchrun --nproc_per_node N -m ...`)."""

from __future__ import annotations

import logging
import sys
from typing import Sequence

from ..errors import SarclipError
from .distributed import close_world, init_world
from .loop import Trainer
from .options import parse_args


def main(argv: Sequence[str] | None = None) -> int:
    # GDAL's libtiff notes on OpenSARShip chips ("ExtraSamples") are not the user's problem.
    logging.getLogger("rasterio._env").setLevel(logging.ERROR)
    world = None
    try:
        args = parse_args(argv)
        world = init_world(args.device)
        Trainer(args, world).run()
    except SarclipError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: the last complete checkpoint is kept; continue with --resume latest", file=sys.stderr)
        return 130
    finally:
        if world is not None:
            close_world(world)
    return 0


if __name__ == "__main__":
    sys.exit(main())
