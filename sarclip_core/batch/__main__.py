"""`python -m sarclip_core.batch index|query SCENES...`: many scenes on a Dask cluster (LocalCluster by default).

  index SCENES... --index-dir DIR [--scheduler local:N | tcp://HOST:PORT] [--geoparquet FILE] [scene settings]
  query SCENES... --query TEXT | --labels SET [--count] --index-dir DIR --out DIR [--scheduler ...] [scene settings]
  query --geoparquet FILE --query TEXT --out DIR [--top N] [--model M]

One task per scene, the model loaded once per worker, indexes under the one-scene engine's keys (a later
`python -m sarclip_core.scene ... --index-dir DIR` with the same settings reuses them). A failed scene is one
line and the others go on; the exit status is then 1.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from tqdm import tqdm

from ..cli import run_cli
from ..errors import SarclipError
from ..files import atomic_text, check_output_file, sweep_stale
from ..scene.__main__ import add_settings_arguments, add_task_arguments, checked_settings
from .cluster import check_scheduler, default_scheduler


def arguments(argv: list[str] | None) -> argparse.Namespace:
    """The batch command line's flags: its own (scenes, --scheduler, --geoparquet, ...) and the one-scene CLI's."""
    parser = argparse.ArgumentParser(prog="python -m sarclip_core.batch", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    index = commands.add_parser("index", help="index many scenes into a shared index folder")
    query = commands.add_parser("query", help="query, label or count many scenes, or search a GeoParquet index")
    for command in (index, query):
        command.add_argument("scenes", nargs="*", type=Path, help="SAR rasters (GeoTIFF or any image GDAL reads)")
        command.add_argument("--scheduler", default=default_scheduler(),
                             help="local:N (N worker processes here; default one per core) or a Dask scheduler's "
                                  "address, e.g. tcp://HOST:8786")
        add_settings_arguments(command)
    index.add_argument("--geoparquet", type=Path, help="also write the scenes' indexes to this GeoParquet file")
    index.add_argument("--json", type=Path, help="write the run's per-scene report to this JSON file")
    add_task_arguments(query)
    query.add_argument("--out", type=Path, required=True, help="output folder: a folder per scene, hits.gpkg, "
                                                               "batch.json")
    query.add_argument("--geoparquet", type=Path, help="search this GeoParquet index (from `index --geoparquet`) "
                                                       "instead of scenes")
    query.add_argument("--top", type=int, default=100, help="with --geoparquet: how many best cells to keep")
    args = parser.parse_args(argv)
    command = index if args.command == "index" else query
    if args.command == "query" and args.geoparquet:
        if args.scenes or args.labels or args.count or not args.query:
            command.error("--geoparquet searches the file alone with --query: give no scenes, --labels or --count")
        return args
    if not args.scenes:
        command.error("give the scenes (or, for query, --geoparquet FILE)")
    if args.index_dir is None:
        command.error("give --index-dir: a folder every worker reaches, where the scene indexes are kept")
    if args.command == "query":
        if not (args.query or args.labels):
            command.error("give --query and/or --labels")
        if args.count and not (args.query or args.labels):
            command.error("--count counts --labels (or --query): give one")
    return args


class Bar:
    """The progress bar over all scenes; a failed scene's one line is printed above it as it comes."""

    def __init__(self, total: int, what: str):
        self.bar = tqdm(total=total, unit="scene", desc=what, file=sys.stderr, disable=None, leave=False)
        self.failed = 0

    def __call__(self, result, done: int, total: int) -> None:
        if result.status == "failed":
            self.failed += 1
            tqdm.write(f"error: {result.error}", file=sys.stderr)
            self.bar.set_postfix(failed=self.failed)
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        """Clear the bar, so that the summary (or an error) is the only thing left on the terminal."""
        self.bar.close()


@contextmanager
def progress_bar(total: int, what: str, folders: Callable[[], list[Path]]) -> Iterator[Bar]:
    """The run's progress bar. On Ctrl-C or SIGTERM, once the local workers are gone (connect() has shut the
    LocalCluster down), the staging their unfinished tasks left in `folders` is swept: this machine's only,
    of processes no longer running, so a remote cluster's live builds are never touched."""
    bar = Bar(total, what)
    try:
        yield bar
    except KeyboardInterrupt:
        for folder in folders():
            sweep_stale(folder)
        raise
    finally:
        bar.close()


def run_index(args: argparse.Namespace) -> int:
    """`index`: every scene indexed (or skipped), a line per failed scene, the GeoParquet file if asked for."""
    from .geoparquet import Indexed, export_geoparquet
    from .run import index_scenes, model_ref, scene_request

    settings = checked_settings(argparse.Namespace(**scene_request(args)))
    for flag, path in (("--geoparquet", args.geoparquet), ("--json", args.json)):
        if path:
            check_output_file(path, flag)
    with progress_bar(len(args.scenes), "index", lambda: [settings.cache_dir()]) as bar:
        results = index_scenes(args.scenes, args.model, settings, args.scheduler, bar, args.backend)
    report = {"scenes": [r.to_dict() for r in results], "index_dir": str(args.index_dir)}
    counts = {status: sum(r.status == status for r in results) for status in ("indexed", "reused", "skipped", "failed")}
    print(f"{len(results)} scene(s): {counts['indexed'] + counts['reused']} indexed, {counts['skipped']} skipped "
          f"(already indexed), {counts['failed']} failed; indexes in {args.index_dir}")
    if args.geoparquet:
        _, ref = model_ref(args.model, args.backend)
        exported = export_geoparquet([Indexed(r.scene, r.index) for r in results if r.index], ref.spec, ref.digest,
                                     args.geoparquet)
        report["geoparquet"] = exported
        print(f"geoparquet: {exported['geoparquet']} ({exported['rows']:,} cells of {exported['scenes']} scene(s))")
        for note in exported["notes"]:
            print(f"  note: {note}")
    if args.json:
        with atomic_text(args.json) as handle:
            json.dump(report, handle, indent=2)
    return 1 if counts["failed"] else 0


def run_query(args: argparse.Namespace) -> int:
    """`query` on scenes: each scene's outputs, hits.gpkg and batch.json in --out."""
    from .run import REPORT_FILE, query_scenes, scene_request

    request = scene_request(args)

    def staging_places() -> list[Path]:
        made = [p for p in args.out.iterdir() if p.is_dir()] if args.out.is_dir() else []
        return [checked_settings(argparse.Namespace(**request)).cache_dir(), args.out, *made]

    with progress_bar(len(args.scenes), "query", staging_places) as bar:
        results, hits = query_scenes(args.scenes, request, args.out, args.scheduler, bar)
    report = {"scenes": [r.to_dict() for r in results], "hits": str(hits)}
    with atomic_text(args.out / REPORT_FILE) as handle:
        json.dump(report, handle, indent=2)
    done = [r for r in results if r.status == "done"]
    found = sum(r.details["hits"] for r in done)
    print(f"{len(results)} scene(s): {len(done)} done, {len(results) - len(done)} failed; outputs in {args.out}")
    print(f"hits: {hits} ({found} across all scenes, best first)")
    for result in done:
        for note in result.details["notes"]:
            print(f"  note: {note}")
    return 0 if len(done) == len(results) else 1


def run_search(args: argparse.Namespace) -> int:
    """`query --geoparquet`: the file's best cells for --query, as polygons in --out/hits.gpkg."""
    from osgeo import ogr

    from ..files import check_writable_place
    from .geoparquet import search_geoparquet
    from .hits import write_hits
    from .run import HITS_FILE

    if args.out.exists() and not args.out.is_dir():
        raise SarclipError(f"{args.out}: --out is a file, not a folder; give a folder for the outputs")
    check_writable_place(args.out / HITS_FILE, "--out")
    hits, facts = search_geoparquet(args.geoparquet, args.query, args.model, args.top, args.backend)
    args.out.mkdir(parents=True, exist_ok=True)
    path = write_hits(args.out / HITS_FILE, hits, ogr.wkbPolygon)
    best = f"; best {hits[0].score:.3f} in {hits[0].scene}" if hits else ""
    print(f"searched {facts['rows']:,} cells of {args.geoparquet}: {len(hits)} best cell(s) in {path}{best}")
    return 0


def quiet_dask_logs() -> None:
    """Dask's own messages at WARNING and above (a lost worker, a restart), once: this process's root logger may
    have been given a handler by a library's logging.info() call, which would repeat Dask's INFO chatter."""
    logger = logging.getLogger("distributed")
    logger.setLevel(logging.WARNING)
    logger.propagate = False


def main(argv: list[str] | None = None) -> int:
    """Run the batch command line; the exit status (0 all done, 1 some scenes failed, 2 a bad input)."""
    args = arguments(argv)
    quiet_dask_logs()  # a command line owns its process's logging; the library functions leave it alone

    def work() -> int:
        check_scheduler(args.scheduler)
        if args.command == "index":
            return run_index(args)
        if args.geoparquet:
            return run_search(args)
        return run_query(args)

    return run_cli(work, "interrupted; finished scenes are kept, no partial outputs were left")


if __name__ == "__main__":
    sys.exit(main())
