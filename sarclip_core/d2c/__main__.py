"""python -m sarclip_core.d2c: build a caption corpus (captions.csv, records.jsonl) from SAR annotations.

Sources: detection annotations (voc, coco, yolo, dota, instance masks), classification folders,
OpenSARShip, composed MSTAR scenes, and Sen1Floods11 water masks (floods). --sealand adds each ship's
setting (open sea, near the coast, in port, at a quay) and the image's land share from sea/land masks.
--windows cuts every source into model-size window crops captioned from what lies inside each one.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path
from typing import Any, Iterable, Sequence

from rasterio.errors import NotGeoreferencedWarning

from ..cli import run_cli
from ..errors import SarclipError
from ..files import check_output_file
from ..io.raster import NoCrsWarning
from .boxes import ImageRecord
from .captions import Captioner
from .compose import ComposeSettings, compose
from .corpus import caption_all, write_csv, write_jsonl
from .floods import read_floods
from .readers import READERS
from .sealand import with_sealand
from .sources import read_folder, read_opensarship
from .validate import Problems, parse_classes
from .vocabulary import DEFAULT_VOCABULARY, load_vocabulary
from .windows import CUT_MIN, WindowSettings, cut_windows

FORMATS = (*READERS, "folder", "opensarship", "compose", "floods")


def build_parser() -> argparse.ArgumentParser:
    """The D2C command line's flags (one --format per annotation source)."""
    parser = argparse.ArgumentParser(prog="python -m sarclip_core.d2c", description=__doc__)
    parser.add_argument("--format", required=True, choices=FORMATS, help="annotation format or source")
    parser.add_argument("--annotations", type=Path, help="annotation folder or file (voc, coco, yolo, dota, mask); "
                                                         "for floods the LabelHand water mask folder")
    parser.add_argument("--images", type=Path, help="image folder; for folder/compose the classification root; "
                                                    "for opensarship the dataset root; for floods the S1Hand folder")
    parser.add_argument("--classes", help='class map "0=2S1,1=BMP2" or a file of such lines / one name per line')
    parser.add_argument("--context", default="", help='image context for all images, e.g. "sensor=MSTAR,band=X,'
                                                      'mode=spotlight,resolution_m=0.3,depression_deg=17"')
    parser.add_argument("--vocabulary", type=Path, default=DEFAULT_VOCABULARY, help="vocabulary JSON")
    parser.add_argument("--per-image", type=int, default=5, help="captions per image (default 5)")
    parser.add_argument("--seed", type=int, default=0, help="seed; the same seed gives the same captions")
    parser.add_argument("--strict", action="store_true", help="stop before writing anything if any problem is found")
    parser.add_argument("--mask-class", default="ship", help="class of every instance in --format mask")
    parser.add_argument("--patch", default="Patch", help="OpenSARShip chip folder: Patch, Patch_Cal or Patch_Uint8")
    parser.add_argument("--scenes", type=int, default=100, help="compose: number of scenes")
    parser.add_argument("--scene-size", type=int, default=256, help="compose: scene width and height in pixels")
    parser.add_argument("--max-objects", type=int, default=8, help="compose: most targets in one scene")
    parser.add_argument("--empty-share", type=float, default=0.05,
                        help="compose: share of scenes with no target at all (clutter only)")
    parser.add_argument("--sealand", type=Path,
                        help="sea/land masks (255 sea, 0 land), one per image with its file stem, e.g. SSDD's "
                             "sealand/: adds each ship's setting and the image's land share and background")
    parser.add_argument("--windows", type=int, default=0,
                        help="cut each image into this many window crops (written to --out-images) and caption "
                             "the windows instead of the images; 0 (default) = whole images")
    parser.add_argument("--window-size", type=int, default=128, help="windows: stored size in pixels (default 128)")
    parser.add_argument("--window-scales", default="1,2",
                        help="windows: whole-number scales; a scale-s window covers size*s source pixels, averaged "
                             "down to size (default 1,2)")
    parser.add_argument("--window-object-share", type=float, default=0.5,
                        help="windows: share placed over a random object, the rest anywhere (default 0.5); objects "
                             f"with at least {CUT_MIN * 100:.0f}%% of their box inside a window are kept as cut parts")
    parser.add_argument("--out-images", type=Path, help="compose: folder for the composed PNG scenes; "
                                                        "windows: folder for the crops (PNG, or GeoTIFF for non 8-bit)")
    parser.add_argument("--out", type=Path, required=True, help="captions CSV (filepath,caption)")
    parser.add_argument("--jsonl", type=Path, help="optional records JSONL (structured truth and captions)")
    return parser


def parse_context(text: str) -> dict[str, Any]:
    """Parse "band=X,resolution_m=0.3" -> {"band": "X", "resolution_m": 0.3} (numbers become floats)."""
    out: dict[str, Any] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise SarclipError(f"--context: {item!r} is not key=value")
        try:
            out[key.strip()] = float(value)
        except ValueError:
            out[key.strip()] = value.strip()
    return out


def read_records(args: argparse.Namespace, classes: dict[str, str], problems: Problems) -> Iterable[ImageRecord]:
    """The records of the chosen source; image context from --context is added to every record."""
    context = parse_context(args.context)
    if args.format in READERS:
        if args.annotations is None:
            raise SarclipError(f"--annotations is required for --format {args.format}")
        extra = {"mask_class": args.mask_class} if args.format == "mask" else {}
        records = READERS[args.format](args.annotations, args.images, classes, problems, **extra)
    elif args.images is None:
        raise SarclipError(f"--images is required for --format {args.format}")
    elif args.format == "folder":
        return read_folder(args.images, classes, problems, context)
    elif args.format == "opensarship":
        records = read_opensarship(args.images, problems, args.patch)
    elif args.format == "floods":
        records = read_floods(args.images, args.annotations, problems)
    else:
        settings = ComposeSettings(args.scenes, args.scene_size, args.max_objects, args.empty_share)
        return compose(args.images, _out_images(args), classes, settings, args.seed, context)
    return (_with_context(r, context) for r in records)


def prepared_records(args: argparse.Namespace, classes: dict[str, str], problems: Problems) -> Iterable[ImageRecord]:
    """The source's records, with sea/land truth if --sealand, cut into windows if --windows."""
    records = read_records(args, classes, problems)
    if args.sealand is not None:
        records = with_sealand(records, args.sealand, problems)
    if args.windows:
        settings = WindowSettings(args.windows, args.window_size, _scales(args.window_scales), args.window_object_share)
        records = cut_windows(records, settings, _out_images(args), args.seed, problems)
    return records


def _out_images(args: argparse.Namespace) -> Path:
    if args.out_images is None:
        raise SarclipError(f"--out-images is required for {'--windows' if args.windows else '--format compose'}")
    return args.out_images


def _scales(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise SarclipError(f"--window-scales: {text!r} is not a comma-separated list of whole numbers") from None


def _with_context(record: ImageRecord, context: dict[str, Any]) -> ImageRecord:
    record.context = {**context, **record.context}
    return record


def main(argv: Sequence[str] | None = None) -> int:
    """Run the D2C command line; returns the exit status (0, or 2 after a one-line error)."""
    args = build_parser().parse_args(argv)
    for category in (NotGeoreferencedWarning, NoCrsWarning):  # chips and masks have no CRS, by nature
        warnings.filterwarnings("ignore", category=category)

    def work() -> None:
        if args.per_image < 1:
            raise SarclipError("--per-image must be at least 1")
        check_output_file(args.out, "--out")  # before any reading, and before any output is replaced
        if args.jsonl:
            check_output_file(args.jsonl, "--jsonl")
        vocabulary = load_vocabulary(args.vocabulary)
        classes = parse_classes(args.classes)
        problems = Problems()
        records = list(prepared_records(args, classes, problems))
        if args.strict and problems.items:
            raise SarclipError(f"{len(problems)} problem(s) found, nothing written (--strict); first: {problems.items[0]}")
        if not records:
            first = f"; first: {problems.items[0]}" if problems.items else ""
            raise SarclipError(f"no image to caption, nothing written: {len(problems)} problem(s){first}")
        corpus = caption_all(records, Captioner(vocabulary, args.seed), args.per_image)
        write_csv(corpus, args.out)
        if args.jsonl:
            write_jsonl(corpus, args.jsonl)
        print(corpus.summary(problems.items))

    return run_cli(work)

if __name__ == "__main__":
    sys.exit(main())
