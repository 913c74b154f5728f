"""The scene engine's public functions: index a scene, then text queries, label maps and counts from the index.

Every function takes plain callables for progress (0..1) and cancel, checks its inputs before any
work, reuses the scene index when one fits, writes all its outputs atomically as a set and returns
a JSON-serialisable summary ending in a one-line human message.
"""

from __future__ import annotations

import heapq
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np

from ..data import read_chip
from ..errors import SarclipError
from .backend import chip_embeddings
from .blend import CellBlender
from .calibration import backgrounds_for, label_probabilities, query_probability, softmax
from .counts import CellGrid, Point, StagedFile, field_names, write_cells, write_points
from .index import SceneIndex
from .outputs import CategoryWriter, OutputSet, check_output, float_writer
from .peaks import find_peaks
from .phrases import counted_labels, has_background, label_map_labels, parse_labels, parse_query
from .progress import CancelFn, ProgressFn, StageProgress
from .prompts import embed, embed_query
from .quicklook import write_quicklook
from .radiometry import (
    add_evidence,
    describe_mode,
    evidence_note,
    is_vessel_query,
    is_water_label,
)
from .run import INDEX_SHARE, SceneRun, blended_blocks, describe_scene, inference_model, open_index, open_run
from .scatterers import (
    BEST_CANDIDATES,
    MIN_CONTRAST,
    is_object_query,
    most_likely,
)
from .settings import SceneSettings

if TYPE_CHECKING:
    from .backend import InferenceModel

TOP_PEAKS = 20
CHECKED_PEAKS = 200  # a heatmap's strongest peaks that are checked against the radar return


def build_index(scene: str | os.PathLike, model: str | os.PathLike | InferenceModel = "default",
                settings: SceneSettings = SceneSettings(), progress: ProgressFn | None = None,
                is_cancelled: CancelFn | None = None) -> SceneIndex:
    """The scene's window-embedding index for this model and settings: reused if cached, built otherwise."""
    info, _ = describe_scene(scene)
    return open_index(info, inference_model(model), settings, StageProgress(progress, is_cancelled))[0]


def text_query(scene: str | os.PathLike, query: str, out_path: str | os.PathLike,
               model: str | os.PathLike | InferenceModel = "default", settings: SceneSettings = SceneSettings(),
               progress: ProgressFn | None = None, is_cancelled: CancelFn | None = None, *,
               peak_threshold: float | None = None, quicklook: bool = True) -> dict[str, Any]:
    """Probability heatmap of a text query (phrases separated by ';' are averaged) as float32 GeoTIFF + PNG.

    Each scene cell's value is the calibrated probability that it shows the query rather than any of
    the background classes (calibration.py): 0 to 1 with the same meaning on every scene, so a query
    that is absent stays low everywhere. Cells are blended smoothly onto the map. Peaks are local maxima
    at least `peak_threshold` (default: the model's calibrated peak threshold, else 0.5).
    """
    phrases = parse_query(query)

    def probability(run: SceneRun) -> tuple[np.ndarray, float, bool]:
        query_scores, background_scores = run.scores(embed_query(run.checkpoint, query), backgrounds_for(phrases))
        calibration = run.calibration
        return (query_probability(query_scores[:, 0], background_scores, calibration.temperature, calibration.bias),
                calibration.threshold_for(phrases), is_object_query(phrases))

    return _heatmap(scene, probability, query, "probability", out_path, model, settings,
                    StageProgress(progress, is_cancelled), peak_threshold, quicklook,
                    water=all(is_water_label(phrase) for phrase in phrases), vessels=is_vessel_query(phrases))


def image_query(scene: str | os.PathLike, examples: Sequence[str | os.PathLike], out_path: str | os.PathLike,
                model: str | os.PathLike | InferenceModel = "default", settings: SceneSettings = SceneSettings(),
                progress: ProgressFn | None = None, is_cancelled: CancelFn | None = None, *,
                example_points: Sequence[tuple[float, float]] = (), peak_threshold: float | None = None,
                quicklook: bool = True) -> dict[str, Any]:
    """Heatmap of cosine similarity between each scene cell and examples ("more like this one").

    Examples are image chips (their pooled embeddings) and/or points on the scene itself, in its map
    coordinates (the embedding of the scene cell under each point, read from the index: picking an example
    on the map costs no encoding). All example embeddings are averaged and compared with every cell.
    Image-to-image cosines have no calibration, so peaks default to a scene-relative cut: half-way between
    the median and the best cell. Peaks are confirmed by a bright scatterer (scatterers.py) when the
    examples are targets: always for chips, and for points when each point is itself a bright scatterer,
    so an example of open water or fields finds water or fields.
    """
    if not examples and not example_points:
        raise SarclipError("no example given: give example images or example points on the scene")

    def similarity(run: SceneRun) -> tuple[np.ndarray, float, bool]:
        vectors, targets = [], True
        if examples:
            chips = [read_chip(path, run.checkpoint.normalisation, run.checkpoint.channels) for path in examples]
            vectors.append(chip_embeddings(run.checkpoint, chips))
        if example_points:
            vectors.append(run.cell_embeddings(example_points))
            targets = all(s.contrast >= MIN_CONTRAST for s in run.scatterers(
                [(*run.output_pixel(x, y), 1.0) for x, y in example_points]))
        mean = np.concatenate(vectors).mean(axis=0)
        scores = run.scores((mean / max(float(np.linalg.norm(mean)), 1e-12))[None].astype(np.float32), [])[0][:, 0]
        typical, best = float(np.nanmedian(scores)), float(np.nanmax(scores))
        cut = (typical + best) / 2 if best - typical > 1e-6 else float("inf")  # a flat map has no peaks
        return scores, cut, targets

    what = ", ".join(part for part in (f"{len(examples)} example image(s)" if examples else "",
                                       f"{len(example_points)} example point(s)" if example_points else "") if part)
    return _heatmap(scene, similarity, what, "cosine similarity", out_path, model, settings,
                    StageProgress(progress, is_cancelled), peak_threshold, quicklook)


def _heatmap(scene, values_of: Callable[[SceneRun], tuple[np.ndarray, float, bool]], what: str, unit: str, out_path,
             model, settings: SceneSettings, steps: StageProgress, peak_threshold: float | None,
             quicklook: bool, water: bool = False, vessels: bool = False) -> dict[str, Any]:
    """Write the map of per-cell values that `values_of` gives for the run, with their default peak threshold
    and whether the query is about targets (`snap`: peaks confirmed by, and placed on, bright scatterers).

    The summary's `peaks` are the strongest peaks at or above the threshold and `best` the most likely
    location even below it: for object queries (`snap`) peaks are those a bright scatterer confirms, placed on
    it, and `best` is, among the map's strongest peaks, where map and radar return agree most (scatterers.py);
    for background queries both are the map's own maxima. A `water` query adds the scene's radiometric
    evidence (radiometry.py) to the blended map; for `vessels` the best location also weighs each candidate
    by the share of the scene's water around it (SceneRun.water_shares): a ship floats, a bright quay does not.
    An object query's map is drawn as its values times the radar return (SceneLevels.target_return), so the
    map's own maximum sits on a target; peaks and the threshold stay on the values themselves.
    """
    out = check_output(out_path)
    run = open_run(scene, model, settings, steps)
    values, default_threshold, snap = values_of(run)
    threshold = default_threshold if peak_threshold is None else float(peak_threshold)
    name = f"{unit} x radar return: {what}" if snap else f"{unit}: {what}"
    evidence, mode = (run.levels().water_evidence(), run.levels().mode) if water else (None, None)
    drawn = run.levels().target_return() if snap else None
    peaks, candidates, score_range = _write_maps(run, values[:, None], [name], out, steps.part(INDEX_SHARE, 1.0),
                                                 threshold, evidence, drawn)
    outputs = {"heatmap": str(out)}
    if quicklook:
        outputs["quicklook"] = str(write_quicklook(out, out.with_suffix(".png"), name, unit=unit))
    points, best_point, checked = _placed_peaks(run, peaks, candidates, snap, vessels)
    found = [dict(x=x, y=y, score=round(v, 4)) for x, y, v in points[:TOP_PEAKS]]
    best = dict(x=best_point[0], y=best_point[1], score=round(best_point[2], 4), snapped=snap) if best_point else None
    flat = not np.isfinite(threshold)  # a scene-relative cut on a flat map
    message = _heatmap_message(len(peaks), threshold, len(points) if snap else None, checked, found)
    if snap:
        message += f"; drawn as {unit} x radar return (how far each place stands out of the clutter)"
    if water:
        message += "; " + evidence_note(run.info, mode)
    return run.summary(outputs, message, query=what, values=unit, peak_threshold=None if flat else round(threshold, 4),
                       score_range=score_range,
                       peak_count=len(peaks), confirmed_count=len(points) if snap else None, peaks_checked=checked,
                       peaks=found, best=best, water_dark_mode=describe_mode(mode) if water else None)


def _placed_peaks(run: SceneRun, peaks: list[tuple[int, int, float]], candidates: list[tuple[int, int, float]],
                  snap: bool, vessels: bool) -> tuple[list[tuple[float, float, float]], tuple | None, int]:
    """The peak policy of a heatmap: (x, y, value) of its peaks, its best location, and how many peaks were
    checked. Object queries (`snap`): the CHECKED_PEAKS strongest peaks a bright scatterer confirms, placed on
    it, and the best of the candidates where map and radar return agree most (for `vessels`, weighted by the
    water around each: a ship floats, a bright quay does not). Background queries: the map's own maxima."""
    if not snap:
        best = (*run.to_map(*candidates[0][:2]), candidates[0][2]) if candidates else None
        return [(*run.to_map(r, c), v) for r, c, v in peaks], best, len(peaks)
    checked = min(len(peaks), CHECKED_PEAKS)  # the map's count is exact; confirming all is the count task's job
    points = run.object_points(peaks[:checked])
    if not candidates:
        return points, None, checked
    near = run.scatterers(candidates)
    pick = most_likely(candidates, near, run.water_shares(candidates) if vessels else None)
    return points, (near[pick].x, near[pick].y, candidates[pick][2]), checked


def _heatmap_message(peak_count: int, threshold: float, confirmed_count: int | None, checked: int,
                     found: list[dict]) -> str:
    """The heatmap's one-line message: its peaks, the cut, how many a scatterer confirmed, and the best one."""
    cut = "(the map is flat: nothing stands out)" if not np.isfinite(threshold) else f"at or above {threshold:.3f}"
    confirmed_note = ""
    if confirmed_count is not None:
        strongest = f"of the strongest {checked} " if checked < peak_count else ""
        confirmed_note = f", {confirmed_count} {strongest}confirmed by a bright scatterer"
    where = f"; best {found[0]['score']:.3f} at ({found[0]['x']:.1f}, {found[0]['y']:.1f})" if found else ""
    return f"heatmap written; {peak_count} peaks {cut}{confirmed_note}{where}"


def _write_maps(run: SceneRun, values: np.ndarray, names: list[str], out: Path, steps: StageProgress, threshold: float,
                evidence: np.ndarray | None = None, drawn: np.ndarray | None = None
                ) -> tuple[list[tuple[int, int, float]], list[tuple[int, int, float]], list[float | None]]:
    """Blend (cells, bands) values into a float32 GeoTIFF at `out`, band 1's log-odds shifted by `evidence`
    (output grid) if given, and the written values times `drawn` (output grid, 0..1) if given. Returns band 1's
    peaks at or above `threshold` and its BEST_CANDIDATES strongest peaks whatever their value, as output
    (row, col, value) of the blended values before `drawn`, strongest first (both empty for an all-NaN map), and
    band 1's [lowest, highest] written value (None for an all-NaN map)."""
    peaks: list[tuple[int, int, float]] = []
    candidates: list[tuple[int, int, float]] = []
    low, high = np.inf, -np.inf
    with OutputSet() as outputs:
        writer = outputs.add(float_writer(out, run.grid, names))
        blender = CellBlender(run.index, run.grid, values)
        for chunk, padded, block, (r0, r1, c0, c1) in blended_blocks(run, blender, steps, run.peak_radius):
            if evidence is not None:
                block = add_evidence(block, evidence[padded[0]:padded[1], padded[2]:padded[3]], [0])
            shown = block if drawn is None else block * drawn[padded[0]:padded[1], padded[2]:padded[3]]
            writer.write(chunk.row0, chunk.col0, shown[:, r0:r1, c0:c1])
            inner = shown[0, r0:r1, c0:c1]
            if np.isfinite(inner).any():
                low, high = min(low, float(np.nanmin(inner))), max(high, float(np.nanmax(inner)))
            local = [(r + padded[0], c + padded[2], v)
                     for r, c, v in find_peaks(block[0], run.peak_radius, -np.inf, (r0, r1, c0, c1))]
            peaks += [p for p in local if p[2] >= threshold]
            candidates = heapq.nlargest(BEST_CANDIDATES, candidates + local, key=lambda p: p[2])
    written = [round(low, 4), round(high, 4)] if low <= high else [None, None]
    return sorted(peaks, key=lambda p: -p[2]), candidates, written


def classify_labels(scene: str | os.PathLike, labels: str | list[str], out_path: str | os.PathLike,
                    out_confidence_path: str | os.PathLike, model: str | os.PathLike | InferenceModel = "default",
                    settings: SceneSettings = SceneSettings(), progress: ProgressFn | None = None,
                    is_cancelled: CancelFn | None = None, *, out_scores_path: str | os.PathLike | None = None,
                    quicklook: bool = True) -> dict[str, Any]:
    """Label map (uint8, 1..N = labels in the order given, 0 = no data) and confidence (max probability).

    Each label is expanded through the vocabulary and prompt templates; each scene cell's similarities
    become probabilities by a softmax over the labels at the calibrated temperature, blended onto the
    map, so the label is the argmax and the confidence its probability. `out_scores_path` adds the
    N-band cosine similarities.
    """
    names = label_map_labels(labels)
    out, out_conf = check_output(out_path), check_output(out_confidence_path)
    out_scores = check_output(out_scores_path) if out_scores_path else None
    steps = StageProgress(progress, is_cancelled)
    run = open_run(scene, model, settings, steps)
    scores = run.index.scores(embed(run.checkpoint, names))
    blender = CellBlender(run.index, run.grid, softmax(run.calibration.temperature * scores))
    water = [i for i, name in enumerate(names) if is_water_label(name)]
    evidence, mode = (run.levels().water_evidence(), run.levels().mode) if 0 < len(water) < len(names) \
        else (None, None)
    score_blender = CellBlender(run.index, run.grid, scores) if out_scores else None
    pixels = np.zeros(len(names) + 1, np.int64)
    with OutputSet() as outputs:
        label_writer = outputs.add(CategoryWriter(out, run.grid, names))
        conf_writer = outputs.add(float_writer(out_conf, run.grid, ["confidence"]))
        score_writer = outputs.add(float_writer(out_scores, run.grid, names)) if out_scores else None
        for chunk, box, probs, _ in blended_blocks(run, blender, steps.part(INDEX_SHARE, 1.0)):
            if evidence is not None:
                probs = add_evidence(probs, evidence[box[0]:box[1], box[2]:box[3]], water)
            valid = np.isfinite(probs).all(axis=0)
            label = np.where(valid, np.argmax(np.nan_to_num(probs, nan=-1), axis=0) + 1, 0)
            pixels += np.bincount(label.ravel(), minlength=len(names) + 1)
            label_writer.write(chunk.row0, chunk.col0, label)
            conf_writer.write(chunk.row0, chunk.col0, np.where(valid, probs.max(axis=0, initial=0), np.nan)[None])
            if score_writer is not None:
                score_writer.write(chunk.row0, chunk.col0, score_blender.blend(*box))
    outputs_written = {"labels": str(out), "confidence": str(out_conf)}
    if out_scores:
        outputs_written["scores"] = str(out_scores)
    if quicklook:
        outputs_written["quicklook"] = str(write_quicklook(out, out.with_suffix(".png"), "label map", names))
    total = max(1, int(pixels[1:].sum()))
    shares = {name: round(float(pixels[i + 1]) / total, 4) for i, name in enumerate(names)}
    ranked = sorted(shares.items(), key=lambda item: -item[1])
    message = "label map written; " + ", ".join(f"{name} {share:.0%}" for name, share in ranked[:4])
    if evidence is not None:
        message += "; " + evidence_note(run.info, mode)
    return run.summary(outputs_written, message, labels={str(i): n for i, n in enumerate(names, start=1)},
                       label_shares=shares, water_dark_mode=describe_mode(mode))


def count_objects(scene: str | os.PathLike, labels: str | list[str], cell_size: float,
                  out_path: str | os.PathLike, out_points_path: str | os.PathLike | None = None,
                  model: str | os.PathLike | InferenceModel = "default", settings: SceneSettings = SceneSettings(),
                  progress: ProgressFn | None = None, is_cancelled: CancelFn | None = None, *,
                  min_score: float | None = None) -> dict[str, Any]:
    """Object counts per grid cell (GeoPackage layer 'counts') from peaks of per-label probability maps.

    Method, and why: each scene cell gets a calibrated probability per label, against the other labels
    and the background classes (calibration.py; background words in the label set join them), blended
    into a seamless map; every local maximum at least `min_score` (default: the model's calibrated peak
    threshold of that label, see Calibration.threshold_for, else 0.5) with no higher value within one
    scene cell is one object. Peaks are used rather than SARCount-style count prompts per window because
    windows overlap: a per-window count cannot say which of two windows owns an object on their seam,
    while a peak of the map is one point in exactly
    one count cell, so nothing is counted twice (chunk borders included, see peaks.py). A peak counts only
    when a bright scatterer near it stands out of its clutter, and is placed on it (scatterers.py). It also
    gives the point layer ('peaks', in out_points_path or in out_path). Limit: objects in neighbouring scene
    cells (closer than about two cells) merge into one peak.
    """
    names = parse_labels(labels)
    counted = counted_labels(names)
    out = check_output(out_path)
    out_points = check_output(out_points_path) if out_points_path else None
    steps = StageProgress(progress, is_cancelled)
    run = open_run(scene, model, settings, steps)
    cells = CellGrid(run.grid, float(cell_size), run.info.pixel_size)
    background_names = [name for name in names if has_background([name])]
    background_names += [bg for bg in backgrounds_for(names) if not (background_names and has_background([bg]))]
    label_scores, background_scores = run.scores(embed(run.checkpoint, counted), background_names)
    calibration = run.calibration
    thresholds = {name: calibration.threshold_for([name]) if min_score is None else float(min_score)
                  for name in counted}
    probabilities = label_probabilities(label_scores, background_scores, calibration.temperature, calibration.bias)
    blender = CellBlender(run.index, run.grid, probabilities)
    found: dict[str, list[tuple[int, int, float]]] = {name: [] for name in counted}
    query_steps = steps.part(INDEX_SHARE, 1.0)
    for _, padded, probs, inner in blended_blocks(run, blender, query_steps.part(0.0, 0.5), run.peak_radius):
        for band, name in enumerate(counted):
            found[name] += [(r + padded[0], c + padded[2], v)
                            for r, c, v in find_peaks(probs[band], run.peak_radius, thresholds[name], inner)]
    points = [Point(x, y, name, v, *run.output_pixel(x, y))
              for name, peaks in found.items() for x, y, v in run.object_points(peaks)]
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
                       totals=totals, cells=cells.rows * cells.cols, method="peaks of per-label probability maps, confirmed by a bright scatterer",
                       min_score=thresholds, backgrounds=background_names)
