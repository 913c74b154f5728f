"""`python -m sarclip_core.scene SCENE --query TEXT --out DIR`: heatmaps, label maps and counts from the command line."""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

from tqdm import tqdm

from ..cli import run_cli
from ..errors import SarclipError
from ..files import RUN_STAGE, atomic_text, check_output_file, staging_path, sweep_stale
from ..io import MapExtent, PixelBox, RasterInfo, describe
from ..io.windows import check_overlap
from .backend import BACKENDS, resolve_backend
from .cache import DEFAULT_LIMIT_GB, LIMIT_ENV, cache_folder, human_bytes, limit_bytes
from .cache import clear as clear_index_cache
from .phrases import counted_labels, label_map_labels, parse_query
from .progress import CancelFn
from .settings import DEFAULT_OVERLAP, SceneSettings

if TYPE_CHECKING:
    from .backend import InferenceModel


def parse_aoi(text: str | None) -> PixelBox | MapExtent | None:
    """'xmin,ymin,xmax,ymax' in the scene's CRS, or 'px:col,row,width,height' in pixels."""
    if not text:
        return None
    pixels = text.startswith("px:")
    try:
        numbers = [float(v) for v in text.removeprefix("px:").split(",")]
    except ValueError:
        numbers = []
    if len(numbers) != 4:
        raise SarclipError(f"--aoi must be 'xmin,ymin,xmax,ymax' or 'px:col,row,width,height', got {text!r}")
    return PixelBox(*map(int, numbers)) if pixels else MapExtent(*numbers)


def add_task_arguments(parser: argparse.ArgumentParser) -> None:
    """What to look for in a scene: --query, --labels, --count and its options (shared with the batch CLI)."""
    parser.add_argument("--query", help="text to look for; several phrases separated by ';' are averaged")
    parser.add_argument("--labels", help="label set for a label map, e.g. 'T72, BMP2, clutter'")
    parser.add_argument("--count", action="store_true", help="count objects of --labels (or --query) per grid cell")
    parser.add_argument("--cell-size", type=float, help="count cell size in map units (default: 4 windows)")
    parser.add_argument("--peak-threshold", type=float,
                        help="probability (0-1) a peak must reach (default: the model's calibrated threshold, else 0.5)")


def add_settings_arguments(parser: argparse.ArgumentParser) -> None:
    """The model and the scene settings (windows, index cache), shared with the batch CLI so that both give the
    same index keys."""
    parser.add_argument("--model", default="default", help="'default', a checkpoint folder, or open_clip NAME[:TAG]")
    parser.add_argument("--backend", default="auto", choices=BACKENDS,
                        help="inference on PyTorch or ONNX Runtime (the checkpoint's ONNX export); auto: PyTorch "
                             "where it is installed, else ONNX Runtime")
    parser.add_argument("--tile", type=int, help="window size in pixels (default: the model's input size)")
    parser.add_argument("--overlap", type=float, default=DEFAULT_OVERLAP,
                        help="window overlap: a fraction of the tile in [0, 1) or a whole number of pixels (2 or more)")
    parser.add_argument("--resolution", type=float, help="ground resolution of window pixels in map units")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--output-factor", type=int, help="source pixels per output pixel (1 = full resolution)")
    parser.add_argument("--aoi", help="'xmin,ymin,xmax,ymax' (scene CRS) or 'px:col,row,width,height'")
    parser.add_argument("--index-dir", type=Path, help="scene index cache (default ~/.cache/sarclip/index)")
    parser.add_argument("--index-cache-gb", type=float,
                        help=f"size limit of the index cache; least recently used indexes go beyond it "
                             f"(default ${LIMIT_ENV}, else {DEFAULT_LIMIT_GB:g})")


def arguments(argv: list[str] | None) -> argparse.Namespace:
    """The scene command line's flags, parsed and checked (paths, numbers) before any work."""
    parser = argparse.ArgumentParser(prog="python -m sarclip_core.scene", description=__doc__)
    parser.add_argument("scene", nargs="?", help="SAR raster (GeoTIFF, or any image GDAL reads)")
    add_task_arguments(parser)
    parser.add_argument("--example", action="append", type=Path, default=[], metavar="IMAGE",
                        help="query by example: an image chip of what to find (repeatable); writes similar.tif")
    parser.add_argument("--example-point", action="append", type=parse_point, default=[], metavar="X,Y",
                        help="query by example: a point on the scene, in its map coordinates (repeatable)")
    parser.add_argument("--out", type=Path, help="output folder (created if missing)")
    add_settings_arguments(parser)
    parser.add_argument("--clear-index-cache", action="store_true",
                        help="remove every cached scene index (of --index-dir or the default cache) and exit")
    parser.add_argument("--json", type=Path, help="write the run summary to this JSON file")
    args = parser.parse_args(argv)
    if args.clear_index_cache:
        return args
    if not args.scene or not args.out:
        parser.error("give a scene and --out (or --clear-index-cache)")
    if not (args.query or args.labels or args.example or args.example_point):
        parser.error("give --query, --labels and/or --example/--example-point")
    if args.count and not (args.query or args.labels):
        parser.error("--count counts --labels (or --query): give one")
    return args


def parse_point(text: str) -> tuple[float, float]:
    """'x,y' in the scene's map coordinates."""
    try:
        x, y = (float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"a point is 'x,y' in the scene's map coordinates, got {text!r}") from None
    return x, y


def check_arguments(args: argparse.Namespace) -> None:
    """Refuse values that would otherwise be silently replaced or reinterpreted, before the model loads."""
    if args.cell_size is not None and not (math.isfinite(args.cell_size) and args.cell_size > 0):
        raise SarclipError(f"--cell-size must be a positive size in map units, got {args.cell_size!r} "
                           "(leave it out for the default of four windows)")
    check_overlap(args.overlap)
    limit_bytes(args.index_cache_gb)  # --index-cache-gb, or a bad $SARCLIP_INDEX_CACHE_GB, named now, not mid-run
    resolve_backend(args.backend)


OUTPUT_FILES = {"query": ("heatmap.tif", "heatmap.png"), "labels": ("labels.tif", "labels.png", "confidence.tif"),
                "count": ("counts.gpkg",), "examples": ("similar.tif", "similar.png")}


def check_outputs(args: argparse.Namespace) -> None:
    """Refuse, before any work, outputs that could not be written: --out a file or in a place no folder can be
    made, an output name that is a folder, an unwritable --json."""
    if args.out.exists() and not args.out.is_dir():
        raise SarclipError(f"{args.out}: --out is a file, not a folder; give a folder for the outputs")
    asked = [step for step in OUTPUT_FILES if getattr(args, step, None)]
    for name in (name for step in asked for name in OUTPUT_FILES[step]):
        check_output_file(args.out / name, "--out")
    if args.json:
        check_output_file(args.json, "--json")


@contextmanager
def output_folder(folder: Path, index_dir: Path | None) -> Iterator[None]:
    """--out for the run: made if missing, and removed again if the run fails and leaves it empty.

    After an interrupt (Ctrl-C, SIGTERM), which may strike between a temporary file's creation and the
    code that would remove it, this process's own temporary files in --out and the index cache go too.
    """
    made = not folder.exists()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise SarclipError(f"{folder}: --out: cannot make the folder ({error.strerror or error})") from None
    try:
        yield
    except BaseException as error:
        if isinstance(error, KeyboardInterrupt):
            sweep_stale(folder, own=True)
            sweep_stale(cache_folder(index_dir), own=True)
        if made and not any(folder.iterdir()):
            folder.rmdir()
        raise


def checked_settings(args: argparse.Namespace) -> SceneSettings:
    """The scene settings the arguments give, once their values and texts are known to be good (before any
    model loads, and before any output of a multi-step run is written)."""
    check_arguments(args)
    settings = SceneSettings(args.tile, args.overlap, args.resolution, args.batch_size, parse_aoi(args.aoi),
                             args.index_dir, args.output_factor, args.index_cache_gb)
    if args.query:
        parse_query(args.query)
    if args.labels:
        label_map_labels(args.labels)
    if args.count:
        counted_labels(args.labels or args.query)
    return settings


def run(args: argparse.Namespace, checkpoint: InferenceModel | None = None,
        is_cancelled: CancelFn | None = None) -> dict:
    """Run what the arguments ask for (with `checkpoint` when the caller has the model loaded already, and
    `is_cancelled` when it can ask the run to stop); the summary of each step under its name."""
    settings = checked_settings(args)
    describe_quietly(args.scene)  # a missing or unreadable scene is reported before PyTorch loads
    args.examples = args.example + args.example_point
    for example in args.example:
        if not example.is_file():
            raise SarclipError(f"{example}: --example image not found")
    check_outputs(args)
    with output_folder(args.out, args.index_dir), staged_outputs(args.out) as stage:
        if checkpoint is None:
            from .backend import load_model  # PyTorch or ONNX Runtime: only now that inputs and outputs are good

            checkpoint = load_model(args.model, args.backend)
        summary = _analyse(args, checkpoint, settings, stage, is_cancelled)
        return json.loads(json.dumps(summary).replace(json.dumps(str(stage))[1:-1], json.dumps(str(args.out))[1:-1]))


@contextmanager
def staged_outputs(out: Path) -> Iterator[Path]:
    """A hidden folder in --out that every step of the run writes to; only when all steps succeeded are its
    files moved into --out, so a step that fails leaves the earlier results there as they were."""
    stage = staging_path(out / RUN_STAGE)
    stage.mkdir()
    try:
        yield stage
        for path in sorted(stage.iterdir()):
            os.replace(path, out / path.name)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def _analyse(args: argparse.Namespace, checkpoint: InferenceModel, settings: SceneSettings, folder: Path,
             is_cancelled: CancelFn | None = None) -> dict:
    """Each step the arguments ask for, its outputs written in `folder`; the summary of each under its name."""
    from .api import classify_labels, count_objects, image_query, text_query
    from .prompts import cut_query_note

    summary: dict = {}
    with tqdm(total=1.0, unit="", bar_format="{l_bar}{bar}| {elapsed}<{remaining}", file=sys.stderr,
              disable=None, leave=False) as bar:  # no bar into a log; cleared, so an error is the only line
        def progress(fraction: float) -> None:
            bar.n = round(fraction, 3)
            bar.refresh()

        common = dict(model=checkpoint, settings=settings, progress=progress, is_cancelled=is_cancelled)
        if args.query:
            bar.set_description("query")
            summary["query"] = text_query(args.scene, args.query, folder / "heatmap.tif", **common,
                                          peak_threshold=args.peak_threshold)
            note = cut_query_note(checkpoint, args.query)
            if note:
                summary["query"]["warnings"].append(note)
        if args.examples:
            bar.set_description("examples")
            summary["examples"] = image_query(args.scene, args.example, folder / "similar.tif", **common,
                                              example_points=args.example_point, peak_threshold=args.peak_threshold)
        if args.labels:
            bar.set_description("labels")
            summary["labels"] = classify_labels(args.scene, args.labels, folder / "labels.tif",
                                                folder / "confidence.tif", **common)
        if args.count:
            bar.set_description("count")
            cell = args.cell_size or default_cell(args.scene, checkpoint.reader.native_size, settings)
            summary["count"] = count_objects(args.scene, args.labels or args.query, cell, folder / "counts.gpkg",
                                             **common, min_score=args.peak_threshold)
    return summary


def describe_quietly(scene: str) -> RasterInfo:
    """The scene's description; its warnings (no CRS) are left to the run, which reports them once."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return describe(scene)


def default_cell(scene: str, native: int, settings: SceneSettings) -> float:
    """Four windows across, in map units."""
    return 4 * (settings.tile or native) * (settings.resolution or describe_quietly(scene).pixel_size[0])


def main(argv: list[str] | None = None) -> int:
    """Run the scene command line; returns the exit status (0, or 2 after a one-line error)."""
    args = arguments(argv)

    def work() -> None:
        if args.clear_index_cache:
            count, freed = clear_index_cache(args.index_dir)
            print(f"removed {count} scene index(es), {human_bytes(freed)}")
            return
        summary = run(args)
        if args.json:
            with atomic_text(args.json) as handle:
                json.dump(summary, handle, indent=2)
        for name, result in summary.items():
            print(f"{name}: {result['message']}")
            for note in result["warnings"]:
                print(f"  note: {note}")
            for what, path in result["outputs"].items():
                print(f"  {what}: {path}")

    return run_cli(work, "interrupted; no partial outputs were left")


if __name__ == "__main__":
    sys.exit(main())
