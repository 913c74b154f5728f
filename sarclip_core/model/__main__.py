"""`python -m sarclip_core.model export-onnx CHECKPOINT`: write a checkpoint's ONNX export into its folder."""

from __future__ import annotations

import argparse
import sys

from ..cli import run_cli
from .meta import checkpoint_folder


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status (2 with a one-line error for bad input)."""
    parser = argparse.ArgumentParser(prog="python -m sarclip_core.model", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    export = commands.add_parser("export-onnx", help="export the image encoder (cells, AnyReader) and the text "
                                 "encoder to ONNX, for the scene engine on ONNX Runtime without PyTorch")
    export.add_argument("checkpoint", help="a checkpoint folder, or 'default' for the bundled model")
    args = parser.parse_args(argv)

    def work() -> None:
        from ..errors import SarclipError

        folder = checkpoint_folder(args.checkpoint)
        if folder is None:
            raise SarclipError(f"{args.checkpoint}: not a checkpoint folder (only checkpoint folders are exported)")
        from .onnx_export import export_onnx  # PyTorch: only once the folder is known to exist

        manifest = export_onnx(folder)
        total = sum(p.stat().st_size for p in folder.iterdir() if p.suffix == ".onnx")
        print(f"ONNX export written to {folder} ({total / 1e6:.1f} MB of graphs; manifest {manifest.name})")

    return run_cli(work, "interrupted; the previous export (if any) was left as it was")


if __name__ == "__main__":
    sys.exit(main())
