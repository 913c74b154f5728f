"""`python -m sarclip_core.train.calibrate CHECKPOINT --data WINDOWS.jsonl`: fit the map calibration of a model.

The scene engine turns a cell's similarities into the probability that it shows the query rather than
any background (scene/calibration.py: softmax(T * [s_q + b, s_bg...])[0]). T and b are fitted here by
maximum likelihood on the cells of training windows with dense truth (D2C --windows records with
sea/land masks or composed clutter): for every object class and for water and land, its cells are
positives and every other labelled cell a negative. The result is written into the checkpoint's
sarclip.json, so every scene and query reads the same scale. Fit on training windows only, never on
the data a model is evaluated on.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import warnings
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from rasterio.errors import NotGeoreferencedWarning
from scipy.optimize import minimize

from ..cli import run_cli
from ..d2c.vocabulary import DEFAULT_VOCABULARY, load_vocabulary
from ..data.cells import cell_classes
from ..data.images import read_chip
from ..data.manifest import read_manifests
from ..errors import SarclipError
from ..files import atomic_text
from ..io.raster import NoCrsWarning
from ..model import Checkpoint, load_model
from ..model.checkpoint import SARCLIP_FILE
from ..model.dense import dense_cells
from ..scene.backend import logit_scale
from ..scene.calibration import CLASS_THRESHOLD, backgrounds_for, query_probability
from ..scene.prompts import embed

QUERIES_BESIDE_OBJECTS = ("water", "land")
BATCH = 64
PEAK_FLOOR = 0.1  # the lowest peak threshold tried


def labelled_cells(checkpoint: Checkpoint, data: str, limit: int | None = None) -> tuple[np.ndarray, list[set[str]]]:
    """Unit cell embeddings (n, D) of the native-size windows with dense truth, and each cell's classes."""
    size, vocabulary = checkpoint.reader.native_size, load_vocabulary(DEFAULT_VOCABULARY)
    chips, truths = [], []
    for sample in read_manifests(data):
        if limit is not None and len(chips) >= limit:
            break
        chip = read_chip(sample.filepath, checkpoint.normalisation, checkpoint.channels)
        if chip.shape[1:] != (size, size) or not sample.truth:
            continue
        chips.append(chip)
        truths.append(sample.truth)
    if not chips:
        raise SarclipError(f"{data}: no {size} px window with dense truth (D2C --windows records with masks)")
    vectors, classes = [], []
    for start in range(0, len(chips), BATCH):
        x = torch.stack([checkpoint.reader.fit_channels(torch.from_numpy(c)) for c in chips[start:start + BATCH]])
        with torch.no_grad():
            cells = dense_cells(checkpoint.model.visual, x)
        if cells is None:
            raise SarclipError("the model's image tower has no dense readout: nothing to calibrate")
        grid = cells.shape[1]
        vectors.append(cells.reshape(-1, cells.shape[-1]).float().numpy())
        for truth in truths[start:start + BATCH]:
            classes += [names for row in cell_classes(truth, (size, size), grid, vocabulary) for names in row]
    return np.concatenate(vectors), classes


def fit(checkpoint: Checkpoint, cells: np.ndarray, classes: list[set[str]]) -> dict[str, float]:
    """Temperature and bias of the query-vs-backgrounds probability with the best likelihood on these cells."""
    labelled = np.array([bool(names) for names in classes])
    present = sorted({name for names in classes for name in names})
    objects = [name for name in present if name not in {"sea", "water", "land", "clutter"}]
    queries = [q for q in (*objects, *QUERIES_BESIDE_OBJECTS) if q in present]
    parts = []
    for query in queries:
        backgrounds = backgrounds_for([query])
        texts = embed(checkpoint, [query, *backgrounds])
        similarities = cells[labelled] @ texts.T
        truth = np.array([query in names for names, keep in zip(classes, labelled) if keep], dtype=float)
        parts.append((similarities[:, 0], similarities[:, 1:], truth))

    def loss(params: np.ndarray) -> float:
        temperature, bias = float(np.exp(params[0])), float(params[1])
        total = 0.0
        for query_similarity, background_similarity, truth in parts:
            p = np.clip(query_probability(query_similarity, background_similarity, temperature, bias), 1e-7, 1 - 1e-7)
            # each query weighs the same, and within it positives and negatives weigh the same
            positive, negative = truth == 1, truth == 0
            total += -np.log(p[positive]).mean() * positive.any() - np.log(1 - p[negative]).mean() * negative.any()
        return total / len(parts)

    start = np.array([np.log(logit_scale(checkpoint)), 0.0])
    result = minimize(loss, start, method="Nelder-Mead", options={"xatol": 1e-3, "fatol": 1e-5, "maxiter": 400})
    return {"temperature": round(float(np.exp(result.x[0])), 4), "bias": round(float(result.x[1]), 5),
            "fitted_on_cells": int(labelled.sum()), "queries": len(queries)}


def fit_peak_threshold(checkpoint: Checkpoint, calibration: dict[str, float], data: str, query: str,
                       limit: int) -> tuple[float, float]:
    """The count-peak threshold with the best detection F1 on annotated training scenes, and that F1.

    The scene engine runs on each scene as the CLI does (with the new temperature and bias) with a low
    threshold; every candidate threshold then keeps the peaks at or above it, matched to the true boxes
    as the detection task matches them.
    """
    from ..evaluate.annotated import box_tuples, read_annotated  # evaluation helpers: only needed for this fit
    from ..evaluate.metrics import detection_metrics, match_points
    from ..evaluate.scene_runs import SceneRunner

    items, _ = read_annotated("jsonl", data, None, None, None)
    items = [items[i] for i in sorted(np.random.default_rng(0).permutation(len(items))[:limit])]
    fitted = dataclasses.replace(checkpoint, calibration={"temperature": calibration["temperature"],
                                                          "bias": calibration["bias"], "peak_threshold": PEAK_FLOOR})
    scenes = []
    with SceneRunner(fitted) as runner:
        for item in items:
            boxes = box_tuples(item.boxes)
            scenes.append((runner.peaks(item.path, query, PEAK_FLOOR), boxes))
    best = (0.5, -1.0)
    for threshold in np.arange(PEAK_FLOOR, 0.99, 0.02):
        kept = [([p for p in peaks if p[2] >= threshold], boxes) for peaks, boxes in scenes]
        f1 = detection_metrics([match_points(p, b) for p, b in kept], [len(p) for p, _ in kept],
                               [len(b) for _, b in kept])["f1"]
        if f1 > best[1]:
            best = (round(float(threshold), 2), f1)
    return best


def write_calibration(directory: Path, calibration: dict[str, float]) -> None:
    """Put the calibration into the checkpoint's sarclip.json (rewritten atomically)."""
    path = directory / SARCLIP_FILE
    meta = json.loads(path.read_text(encoding="utf-8"))
    meta["calibration"] = calibration
    with atomic_text(path) as handle:
        handle.write(json.dumps(meta, indent=2))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the calibration command line; returns the exit status (0, or 2 after a one-line error)."""
    parser = argparse.ArgumentParser(prog="python -m sarclip_core.train.calibrate", description=__doc__)
    parser.add_argument("checkpoint", type=Path, help="checkpoint directory (its sarclip.json gets the calibration)")
    parser.add_argument("--data", required=True, help="training window records (D2C JSONL, '::'-joined)")
    parser.add_argument("--max-windows", type=int, default=2000, help="windows read at most (default 2000)")
    parser.add_argument("--peaks-data", help="annotated training scenes (D2C JSONL) to fit the query's own "
                                             "count-peak threshold on, for detection F1 (others keep 0.5)")
    parser.add_argument("--peaks-query", default="ship", help="the query whose peaks are fitted (default ship)")
    parser.add_argument("--max-scenes", type=int, default=100, help="scenes of --peaks-data used (seeded subset)")
    args = parser.parse_args(argv)

    def work() -> None:
        checkpoint = load_model(args.checkpoint)
        with warnings.catch_warnings():  # window crops and their masks are plain pictures, by nature
            warnings.simplefilter("ignore", NoCrsWarning)
            warnings.simplefilter("ignore", NotGeoreferencedWarning)
            cells, classes = labelled_cells(checkpoint, args.data, args.max_windows)
        calibration = fit(checkpoint, cells, classes)
        values = {"temperature": calibration["temperature"], "bias": calibration["bias"],
                  "peak_threshold": float(checkpoint.calibration.get("peak_threshold", 0.5))}
        print(f"calibration: temperature {values['temperature']}, bias {values['bias']} "
              f"({calibration['queries']} queries, {calibration['fitted_on_cells']} labelled cells)")
        if args.peaks_data:
            key = CLASS_THRESHOLD + load_vocabulary(DEFAULT_VOCABULARY).canonical(args.peaks_query)
            values[key], f1 = fit_peak_threshold(checkpoint, values, args.peaks_data, args.peaks_query,
                                                 args.max_scenes)
            print(f"peak threshold for {args.peaks_query}: {values[key]} (detection F1 {f1:.1f} on "
                  f"{args.max_scenes} training scenes at most)")
        write_calibration(args.checkpoint, values)

    return run_cli(work, "interrupted; the checkpoint was not changed")


if __name__ == "__main__":
    sys.exit(main())
