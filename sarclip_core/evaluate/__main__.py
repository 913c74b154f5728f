"""python -m sarclip_core.evaluate TASK: retrieval, zero-shot, few-shot, linear probe, counting (prompts or a probe),
and the scene tasks (pointing, detection, segmentation) beside their classical baselines, with a report."""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path
from typing import Any, Sequence

from rasterio.errors import NotGeoreferencedWarning

from ..cli import run_cli
from ..errors import SarclipError
from ..files import check_output_file
from ..io.raster import NoCrsWarning
from .annotated import FORMATS
from .config import load_config

DEFAULT_BATCH = 64
INPUT_OPTIONS = ("data", "test_data", "annotations", "images", "masks", "fit_data", "fit_annotations", "fit_images",
                 "config")  # files or folders a task reads (--classes and --templates may be text instead)


def build_parser() -> argparse.ArgumentParser:
    """The evaluation command line: one sub-command per task, plus `all` for a config's task list."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--model", help="'default', a checkpoint directory or an open_clip name[:pretrained] "
                                        "(default: 'default', or the config's model)")
    common.add_argument("--baseline", help="a second model run on every task, side by side in the same table")
    common.add_argument("--json", type=Path, help="write all metrics as JSON here")
    common.add_argument("--report", type=Path, help="write report.md and PNG plots into this folder")
    common.add_argument("--batch-size", type=int, help=f"images per encoder batch (default {DEFAULT_BATCH})")
    common.add_argument("--quiet", action="store_true", help="no progress bar")
    parser = argparse.ArgumentParser(prog="python -m sarclip_core.evaluate", description=__doc__)
    tasks = parser.add_subparsers(dest="task", required=True, metavar="TASK")

    def task(name: str, text: str) -> argparse.ArgumentParser:
        return tasks.add_parser(name, parents=[common], help=text, description=text,
                                argument_default=argparse.SUPPRESS)  # unset options take the task's defaults

    def folder_options(sub: argparse.ArgumentParser, test: str) -> None:
        sub.add_argument("--data", required=True, help="classification folder: one sub-folder of images per class")
        sub.add_argument("--test-data", required=test == "required",
                         help=f"test folder with the same classes ({test})")
        sub.add_argument("--max-per-class", type=int, help="use at most this many images per class (seeded)")
        sub.add_argument("--seed", type=int, help="seed for subsets and trials (default 0)")
        sub.add_argument("--c", type=float, help="probe's inverse regularisation strength (default 1.0)")

    def annotated_options(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--format", required=True, choices=FORMATS, help="jsonl (D2C records) or an annotation format")
        sub.add_argument("--data", help="D2C records JSONL (--format jsonl), e.g. a held-out split")
        sub.add_argument("--annotations", help="annotation folder or file (voc, coco, yolo, dota, mask)")
        sub.add_argument("--images", help="image folder of the annotations")
        sub.add_argument("--classes", help='class map "0=2S1,1=BMP2" or a file, as for python -m sarclip_core.d2c')

    def query_options(sub: argparse.ArgumentParser) -> None:
        annotated_options(sub)
        sub.add_argument("--query", required=True, help="the text query, as typed in the plugin, e.g. ship")
        sub.add_argument("--target", help="the class whose boxes are the truth (default: the query's own class)")

    sub = task("retrieval", "image-text retrieval: R@1/5/10 both ways and mean recall")
    sub.add_argument("--data", required=True, help="captions CSV (filepath,caption) or D2C records JSONL")
    sub = task("zeroshot", "zero-shot classification with prompt-ensembled class names")
    sub.add_argument("--data", required=True, help="classification folder: one sub-folder of images per class")
    sub.add_argument("--classes", help='prompt names for folders, "T72=main battle tank,..." or a file')
    sub.add_argument("--templates", help='prompt templates "a SAR image of {}.|..." or a file, one per line')
    sub.add_argument("--max-per-class", type=int, help="use at most this many images per class (seeded)")
    sub.add_argument("--seed", type=int, help="seed for --max-per-class (default 0)")
    sub = task("fewshot", "k-shot logistic-regression probe on frozen image embeddings")
    folder_options(sub, "default: the images not drawn as shots")
    sub.add_argument("--shots", help="images per class, e.g. 1,5,10 (the default)")
    sub.add_argument("--trials", type=int, help="seeded trials per k (default 5)")
    sub = task("linear-probe", "logistic-regression probe trained on the full train folder")
    folder_options(sub, "required")
    sub = task("counting", "SARCount-style counting: the best-matching 'a SAR image of N <class>' prompt")
    annotated_options(sub)
    sub.add_argument("--max-count", type=int, help="largest count prompted (default: the largest in the data)")
    sub = task("pointing", "scene engine: does the query's heatmap peak on a true box? vs the brightest 9x9 patch")
    query_options(sub)
    sub = task("detection", "scene engine: count-layer peaks as detections (P/R/F1, count errors) vs a CA-CFAR")
    query_options(sub)
    sub.add_argument("--min-score", type=float,
                     help="count peaks at or above this probability (default: the model's calibrated threshold)")
    sub.add_argument("--fit-data", help="training records JSONL the CFAR's parameters are fitted on (never the test)")
    sub.add_argument("--fit-annotations", help="training annotations for the CFAR fit (same --format)")
    sub.add_argument("--fit-images", help="training images for the CFAR fit")
    sub = task("segmentation", "scene engine: label map vs masks, IoU per label, vs an Otsu water threshold")
    sub.add_argument("--images", help="image folder (masks matched by file name)")
    sub.add_argument("--masks", help="mask folder: integer masks on each image's grid")
    sub.add_argument("--data", help="or a records JSONL with 'filepath' and 'mask' per record")
    sub.add_argument("--mask-values", help='mask value to label, "1=water,0=land,-1=nodata" (the default)')
    sub.add_argument("--labels", required=True, help='the label set, as typed in the plugin, e.g. "water, land"')
    sub = task("count-probe", "counting with a logistic-regression probe on frozen embeddings: total counts")
    sub.add_argument("--data", required=True, help="D2C records JSONL of training scenes (the probe learns from them)")
    sub.add_argument("--test-data", required=True, help="D2C records JSONL of held-out scenes (scored)")
    sub.add_argument("--c", type=float, help="probe's inverse regularisation strength (default 1.0)")
    sub = task("all", "run the tasks of a config file (YAML or JSON) into one report")
    sub.add_argument("--config", required=True, type=Path, help="EVAL.yaml or EVAL.json (see `load_config`)")
    return parser


def check_inputs(args: argparse.Namespace) -> None:
    """A missing input file or folder is one line at once, before PyTorch and the model load (a config's own
    task inputs too: reading the config checks them)."""
    for option in INPUT_OPTIONS:
        value = getattr(args, option, None)
        if value is not None and not Path(value).exists():
            raise SarclipError(f"{value}: --{option.replace('_', '-')} not found")
    if args.task == "all":
        load_config(args.config)


def plan(args: argparse.Namespace) -> tuple[list[tuple[str, dict[str, Any]]], str, str | None, int]:
    """The tasks with their options, the model, the baseline and the batch size, from flags and config."""
    from .suite import check_options, task_options

    config: dict[str, Any] = load_config(args.config) if args.task == "all" else {}
    tasks = config.get("tasks") or [(args.task, {k: getattr(args, k) for k in task_options(args.task) if hasattr(args, k)})]
    for name, options in tasks:
        check_options(name, options)
    model = args.model or config.get("model") or "default"
    baseline = args.baseline or config.get("baseline")
    return tasks, str(model), baseline and str(baseline), int(args.batch_size or config.get("batch_size") or DEFAULT_BATCH)


def check_outputs(args: argparse.Namespace) -> None:
    """Refuse, before the evaluation runs, a --json or --report that could not be written at its end."""
    if args.json:
        check_output_file(args.json, "--json")
    if args.report:
        if args.report.exists() and not args.report.is_dir():
            raise SarclipError(f"{args.report}: --report is a file, not a folder; give a folder for report.md and plots")
        check_output_file(args.report / "report.md", "--report")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the evaluation command line; returns the exit status (0, or 2 after a one-line error)."""
    args = build_parser().parse_args(argv)
    for category in (NotGeoreferencedWarning, NoCrsWarning):  # image chips have no CRS, by nature
        warnings.filterwarnings("ignore", category=category)

    def work() -> None:
        start = time.perf_counter()
        check_inputs(args)
        check_outputs(args)
        from .embeddings import Embedder  # PyTorch: only once the inputs and outputs are known to be there
        from .report import describe_model, text_table, write_json, write_report
        from .suite import run_suite

        tasks, model_spec, baseline_spec, batch_size = plan(args)
        model = Embedder.load(model_spec, batch_size, not args.quiet)
        baseline = Embedder.load(baseline_spec, batch_size, not args.quiet) if baseline_spec else None
        runs = run_suite(tasks, model, baseline)
        seconds = time.perf_counter() - start
        models = {"model": describe_model(model)} | ({"baseline": describe_model(baseline)} if baseline else {})
        print(text_table(runs))
        for run in runs:
            for result in filter(None, (run.result, run.baseline)):
                print(f"{run.name} [{result.model}]: {result.images} images, {result.seconds:.1f} s, "
                      f"{len(result.problems)} problem(s){': ' + result.problems[0] if result.problems else ''}")
        if args.json:
            print(f"metrics: {write_json(args.json, runs, models, seconds)}")
        if args.report:
            print(f"report: {write_report(args.report, runs, models, seconds)}")

    return run_cli(work)


if __name__ == "__main__":
    sys.exit(main())
