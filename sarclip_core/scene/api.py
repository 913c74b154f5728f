"""The scene engine's public functions: index a scene, then text queries, label maps and counts from the index.

Every function takes plain callables for progress (0..1) and cancel, checks its inputs before any
work, reuses the scene index when one fits, writes all its outputs atomically as a set and returns
a JSON-serialisable summary ending in a one-line human message.
"""

from __future__ import annotations

import os
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import rasterio

from ..errors import SarclipError
from ..io import OutputGrid, RasterInfo, describe
from ..io.raster import NoCrsWarning
from ..data import read_chip
from ..model import Checkpoint, encode_chips, load_model
from .blend import WindowBlender, chunks
from .counts import CellGrid, Point, StagedFile, field_names, write_cells, write_points
from .index import SceneIndex, open_or_build
from .outputs import CategoryWriter, OutputSet, check_output, float_writer
from .peaks import find_peaks
from .progress import CancelFn, ProgressFn, Steps
from .prompts import BACKGROUND, embed, embed_query, has_background, logit_scale, parse_labels, parse_query
from .quicklook import write_quicklook
from .settings import SceneSettings

INDEX_SHARE = 0.9  # of the progress bar, when the index has to be built
TOP_PEAKS = 20


@dataclass
class Run:
    """A scene opened for a query: its description, the model, the index and the output grid."""

    info: RasterInfo
    checkpoint: Checkpoint
    index: SceneIndex
    grid: OutputGrid
    peak_radius: int  # output pixels: about half a window stride, the finest the windows resolve
    warnings: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.perf_counter)

    def to_map(self, row: int, col: int) -> tuple[float, float]:
        """Map coordinates of an output pixel's centre (pixel coordinates when there is no CRS)."""
        return rasterio.Affine(*self.grid.transform) * (col + 0.5, row + 0.5)

    def summary(self, outputs: dict[str, str], message: str, **extra: Any) -> dict[str, Any]:
        seconds = time.perf_counter() - self.started
        return {"scene": self.info.path, "outputs": outputs, **self.index.summary(),
                "seconds_query": round(seconds, 3),
                "output_grid": {"width": self.grid.width, "height": self.grid.height, "factor": self.grid.factor,
                                "georeferenced": self.info.georeferenced},
                **extra, "warnings": self.warnings, "message": message}


def _checkpoint(model: str | os.PathLike | Checkpoint) -> Checkpoint:
    return model if isinstance(model, Checkpoint) else load_model(model)


def _scene(scene: str | os.PathLike) -> tuple[RasterInfo, list[str]]:
    """Describe the scene, keeping the no-CRS warning for the summary (and passing it on)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", NoCrsWarning)
        info = describe(scene)
    notes = [str(w.message) for w in caught if issubclass(w.category, NoCrsWarning)]
    for note in notes:
        warnings.warn(note, NoCrsWarning, stacklevel=3)
    return info, notes


def build_index(scene: str | os.PathLike, model: str | os.PathLike | Checkpoint = "default",
                settings: SceneSettings = SceneSettings(), progress: ProgressFn | None = None,
                is_cancelled: CancelFn | None = None) -> SceneIndex:
    """The scene's window-embedding index for this model and settings: reused if cached, built otherwise."""
    info, _ = _scene(scene)
    return open_or_build(info, _checkpoint(model), settings, Steps(progress, is_cancelled))


def _open(scene, model, settings: SceneSettings, steps: Steps) -> Run:
    info, notes = _scene(scene)
    checkpoint = _checkpoint(model)
    steps.check()
    index = open_or_build(info, checkpoint, settings, steps.part(0.0, INDEX_SHARE))
    windows = settings.grid(info, checkpoint.reader.native_size)
    factor = settings.factor(windows)
    stride = windows.stride * min(windows.scale_x, windows.scale_y) / factor
    run = Run(info, checkpoint, index, OutputGrid.for_scene(info, factor, area=windows.area),
              max(1, round(stride / 2)), notes)
    return run  # its clock starts now: query time excludes indexing


def _probabilities(block: np.ndarray, scale: float) -> np.ndarray:
    """Softmax over labels (axis 0) of blended similarities at the model's temperature; NaN stays NaN."""
    logits = scale * block
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN pixels (no data) stay NaN
        logits -= np.nanmax(logits, axis=0, keepdims=True) if np.isfinite(logits).any() else 0.0
    exp = np.exp(logits)
    return exp / exp.sum(axis=0, keepdims=True)


def _inner(chunk, padded) -> tuple[int, int, int, int]:
    """The chunk's rows/cols inside its padded block."""
    r0, _, c0, _ = padded
    return chunk.row0 - r0, chunk.row1 - r0, chunk.col0 - c0, chunk.col1 - c0


def text_query(scene: str | os.PathLike, query: str, out_path: str | os.PathLike,
               model: str | os.PathLike | Checkpoint = "default", settings: SceneSettings = SceneSettings(),
               progress: ProgressFn | None = None, is_cancelled: CancelFn | None = None, *,
               peak_threshold: float | None = None, quicklook: bool = True) -> dict[str, Any]:
    """Similarity heatmap of a text query (phrases separated by ';' are averaged) as float32 GeoTIFF + PNG.

    Values are the cosine similarity between the query and each window, blended over overlapping
    windows. Peaks are local maxima above `peak_threshold` (default: half-way between the median and
    the best window score, a scene-relative cut since raw CLIP similarities have no fixed scale).
    """
    parse_query(query)
    return _similarity_query(scene, lambda checkpoint: embed_query(checkpoint, query), query, out_path, model,
                             settings, Steps(progress, is_cancelled), peak_threshold, quicklook)


def image_query(scene: str | os.PathLike, examples: list[str | os.PathLike], out_path: str | os.PathLike,
                model: str | os.PathLike | Checkpoint = "default", settings: SceneSettings = SceneSettings(),
                progress: ProgressFn | None = None, is_cancelled: CancelFn | None = None, *,
                peak_threshold: float | None = None, quicklook: bool = True) -> dict[str, Any]:
    """Heatmap of similarity to example image chips ("more like these"), like text_query otherwise."""
    if not examples:
        raise SarclipError("no example images given")

    def vector(checkpoint: Checkpoint) -> np.ndarray:
        chips = [read_chip(path, checkpoint.normalisation, checkpoint.channels) for path in examples]
        mean = encode_chips(checkpoint.reader, chips).float().mean(dim=0).cpu().numpy()
        return (mean / max(float(np.linalg.norm(mean)), 1e-12))[None].astype(np.float32)

    return _similarity_query(scene, vector, f"{len(examples)} example image(s)", out_path, model, settings,
                             Steps(progress, is_cancelled), peak_threshold, quicklook)


def _similarity_query(scene, vector_of: Callable[[Checkpoint], np.ndarray], what: str, out_path, model,
                      settings: SceneSettings, steps: Steps, peak_threshold: float | None,
                      quicklook: bool) -> dict[str, Any]:
    out = check_output(out_path)
    run = _open(scene, model, settings, steps)
    scores = run.index.scores(vector_of(run.checkpoint))
    if peak_threshold is None:  # half-way from the typical window to the best one; a flat map has no peaks
        typical, best = float(np.median(scores)), float(scores.max())
        threshold = (typical + best) / 2 if best - typical > 1e-6 else float("inf")
    else:
        threshold = float(peak_threshold)
    peaks = _write_maps(run, scores, [f"similarity: {what}"], out, steps.part(INDEX_SHARE, 1.0), threshold)
    peaks.sort(key=lambda p: -p[2])
    outputs = {"heatmap": str(out)}
    if quicklook:
        outputs["quicklook"] = str(write_quicklook(out, out.with_suffix(".png"), f"similarity: {what}"))
    found = [dict(zip(("x", "y"), run.to_map(r, c)), score=round(v, 4)) for r, c, v in peaks[:TOP_PEAKS]]
    best = f"; best {found[0]['score']:.3f} at ({found[0]['x']:.1f}, {found[0]['y']:.1f})" if found else ""
    message = f"heatmap written; {len(peaks)} peaks above {threshold:.3f}{best}"
    return run.summary(outputs, message, query=what, peak_threshold=round(threshold, 4),
                       score_range=[round(float(scores.min()), 4), round(float(scores.max()), 4)],
                       peak_count=len(peaks), peaks=found)


def _write_maps(run: Run, scores: np.ndarray, names: list[str], out: Path, steps: Steps,
                threshold: float) -> list[tuple[int, int, float]]:
    """Blend window scores into a float32 GeoTIFF at `out`; the peaks of band 1 as output (row, col, value)."""
    blender = WindowBlender(run.index, run.grid, scores)
    peaks: list[tuple[int, int, float]] = []
    all_chunks = chunks(run.grid)
    with OutputSet() as outputs:
        writer = outputs.add(float_writer(out, run.grid, names))
        for k, chunk in enumerate(all_chunks):
            steps.report(k / len(all_chunks))
            padded = chunk.padded(run.grid, run.peak_radius)
            block = blender.blend(*padded)
            r0, r1, c0, c1 = _inner(chunk, padded)
            writer.add(chunk.source_box(run.grid), block[:, r0:r1, c0:c1])
            peaks += [(r + padded[0], c + padded[2], v)
                      for r, c, v in find_peaks(block[0], run.peak_radius, threshold, (r0, r1, c0, c1))]
        steps.report(1.0)
    return peaks


def classify_labels(scene: str | os.PathLike, labels: str | list[str], out_path: str | os.PathLike,
                    out_confidence_path: str | os.PathLike, model: str | os.PathLike | Checkpoint = "default",
                    settings: SceneSettings = SceneSettings(), progress: ProgressFn | None = None,
                    is_cancelled: CancelFn | None = None, *, out_scores_path: str | os.PathLike | None = None,
                    quicklook: bool = True) -> dict[str, Any]:
    """Label map (uint8, 1..N = labels in the order given, 0 = no data) and confidence (max probability).

    Each label is expanded through the vocabulary and prompt templates; per-label similarities are
    blended over windows, then turned into probabilities with the model's softmax temperature, so the
    label is the argmax and the confidence its probability. `out_scores_path` adds the N-band similarities.
    """
    names = parse_labels(labels)
    if len(names) < 2:
        raise SarclipError(f"a label map needs at least two labels, got only '{names[0]}'; add a contrast "
                           "such as 'clutter', or run a text query for one class")
    out, out_conf = check_output(out_path), check_output(out_confidence_path)
    out_scores = check_output(out_scores_path) if out_scores_path else None
    steps = Steps(progress, is_cancelled)
    run = _open(scene, model, settings, steps)
    scores = run.index.scores(embed(run.checkpoint, names))
    scale = logit_scale(run.checkpoint)
    blender = WindowBlender(run.index, run.grid, scores)
    pixels = np.zeros(len(names) + 1, np.int64)
    query_steps, all_chunks = steps.part(INDEX_SHARE, 1.0), chunks(run.grid)
    with OutputSet() as outputs:
        label_writer = outputs.add(CategoryWriter(out, run.grid, names))
        conf_writer = outputs.add(float_writer(out_conf, run.grid, ["confidence"]))
        score_writer = outputs.add(float_writer(out_scores, run.grid, names)) if out_scores else None
        for k, chunk in enumerate(all_chunks):
            query_steps.report(k / len(all_chunks))
            block = blender.blend(chunk.row0, chunk.row1, chunk.col0, chunk.col1)
            probs = _probabilities(block, scale)
            valid = np.isfinite(probs).all(axis=0)
            label = np.where(valid, np.argmax(np.nan_to_num(probs, nan=-1), axis=0) + 1, 0)
            pixels += np.bincount(label.ravel(), minlength=len(names) + 1)
            label_writer.write(chunk.row0, chunk.col0, label)
            conf_writer.add(chunk.source_box(run.grid), np.where(valid, probs.max(axis=0, initial=0), np.nan)[None])
            if score_writer is not None:
                score_writer.add(chunk.source_box(run.grid), block)
        query_steps.report(1.0)
    outputs_written = {"labels": str(out), "confidence": str(out_conf)}
    if out_scores:
        outputs_written["scores"] = str(out_scores)
    if quicklook:
        outputs_written["quicklook"] = str(write_quicklook(out, out.with_suffix(".png"), "label map", names))
    total = max(1, int(pixels[1:].sum()))
    shares = {name: round(float(pixels[i + 1]) / total, 4) for i, name in enumerate(names)}
    ranked = sorted(shares.items(), key=lambda item: -item[1])
    message = "label map written; " + ", ".join(f"{name} {share:.0%}" for name, share in ranked[:4])
    return run.summary(outputs_written, message, labels={str(i): n for i, n in enumerate(names, start=1)},
                       label_shares=shares)


def count_objects(scene: str | os.PathLike, labels: str | list[str], cell_size: float,
                  out_path: str | os.PathLike, out_points_path: str | os.PathLike | None = None,
                  model: str | os.PathLike | Checkpoint = "default", settings: SceneSettings = SceneSettings(),
                  progress: ProgressFn | None = None, is_cancelled: CancelFn | None = None, *,
                  min_score: float = 0.5) -> dict[str, Any]:
    """Object counts per grid cell (GeoPackage layer 'counts') from peaks of per-label probability maps.

    Method, and why: each label's similarities are blended into a seamless map and turned into a
    probability against the other labels and a background prompt set (unless the set already has
    'clutter'/'background'); every local maximum at least `min_score` (0.5: the label beats all
    alternatives together) at least half a window stride from a higher one is one object. Peaks are
    used rather than SARCount-style count prompts per window because windows overlap: a per-window
    count cannot say which of two windows owns an object on their seam, while a peak of the blended
    map is one point in exactly one cell, so nothing is counted twice (chunk borders included,
    see peaks.py). It also gives the point layer ('peaks', in out_points_path or in out_path). Limit:
    objects closer than about half a window stride merge into one peak.
    """
    names = parse_labels(labels)
    counted = [name for name in names if not has_background([name])]
    if not counted:
        raise SarclipError(f"nothing to count: {', '.join(names)} only describe background")
    out = check_output(out_path)
    out_points = check_output(out_points_path) if out_points_path else None
    steps = Steps(progress, is_cancelled)
    run = _open(scene, model, settings, steps)
    cells = CellGrid(run.grid, float(cell_size), run.info.pixel_size)
    contrast = names if has_background(names) else [*names, BACKGROUND]
    scores = run.index.scores(embed(run.checkpoint, contrast))
    scale = logit_scale(run.checkpoint)
    blender = WindowBlender(run.index, run.grid, scores)
    points: list[Point] = []
    query_steps, all_chunks = steps.part(INDEX_SHARE, 1.0), chunks(run.grid)
    for k, chunk in enumerate(all_chunks):
        query_steps.report(k / len(all_chunks))
        padded = chunk.padded(run.grid, run.peak_radius)
        probs = _probabilities(blender.blend(*padded), scale)
        for name in counted:
            for r, c, v in find_peaks(probs[contrast.index(name)], run.peak_radius, min_score, _inner(chunk, padded)):
                row, col = r + padded[0], c + padded[2]
                points.append(Point(*run.to_map(row, col), name, v, row, col))
    query_steps.check()
    with OutputSet() as outputs:
        grid_file = outputs.add(StagedFile(out))
        write_cells(grid_file.tmp, cells, counted, points)
        if out_points:
            write_points(outputs.add(StagedFile(out_points)).tmp, run.grid.crs, points)
        else:
            write_points(grid_file.tmp, run.grid.crs, points)
    query_steps.report(1.0)
    totals = {name: sum(p.label == name for p in points) for name in counted}
    outputs_written = {"counts": str(out), "peaks": str(out_points or out)}
    message = "counts written; " + ", ".join(f"{n} {name}" for name, n in totals.items()) + \
              f" in {cells.rows * cells.cols} cells of {cell_size:g}"
    return run.summary(outputs_written, message, labels=counted, count_fields=dict(zip(counted, field_names(counted))),
                       totals=totals, cells=cells.rows * cells.cols, method="peaks of per-label probability maps",
                       min_score=min_score)
