"""Choose radiometry.WEIGHT, CLIP and MIN_SHARE (what a scene's dark mode adds to water-like labels) on training scenes.

Training scenes only: SSDD training images (every coastal one and a seeded sample of open-sea ones, with
their SL-SSDD sea/land masks; the training part of the recipe's seeded split) and composed MSTAR clutter scenes (the recipe's training scenes: land, no water). Every
scene gets the "water, land" label map's probabilities from the model and its levels' dark mode, once;
then each (WEIGHT, CLIP, MIN_SHARE) is scored by the pooled IoU of water and land. Prints the table and the best.

    python scripts/fit_water_evidence.py --ssdd outputs/model/ssdd.train.jsonl \
        --composed outputs/model/composed_train.jsonl [--model default] [--scenes 120]

With --ships outputs/model/ships.train.jsonl it prints instead the calm-sea level of calibrated Sentinel-1
(radiometry.SEA_DB): mean and spread of the median VV sigma0 (dB) around each OpenSARShip training ship,
read from the chip's calibrated twin in Patch_Cal/.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
from pathlib import Path

import numpy as np
import rasterio
from rasterio.enums import Resampling

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sarclip_core.model import load_model  # noqa: E402
from sarclip_core.scene.blend import CellBlender  # noqa: E402
from sarclip_core.scene.calibration import softmax  # noqa: E402
from sarclip_core.scene.progress import StageProgress  # noqa: E402
from sarclip_core.scene.prompts import embed  # noqa: E402
from sarclip_core.scene.radiometry import BIMODAL_D, dark_mode, output_levels  # noqa: E402
from sarclip_core.scene.run import open_run  # noqa: E402
from sarclip_core.scene.settings import SceneSettings  # noqa: E402

LABELS = ["water", "land"]
WEIGHTS = (0.5, 1.0, 2.0)
CLIPS = (1.0, 2.0, 3.0, 4.0, 6.0)
SHARES = (0.0, 0.05, 0.1, 0.2)


def records(path: Path, count: int, seed: int) -> list[dict]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    random.Random(seed).shuffle(rows)
    return rows[:count]


def sea_mask(image: str, grid) -> np.ndarray:
    """True where SL-SSDD's mask says sea, at the output grid (majority of each output pixel)."""
    mask = Path(image).parent.parent / "sealand" / (Path(image).stem + ".png")
    with rasterio.open(mask) as ds:
        share = ds.read(1, out_shape=(grid.height, grid.width), resampling=Resampling.average,
                        window=rasterio.windows.Window(grid.origin.col, grid.origin.row,
                                                       grid.width * grid.factor, grid.height * grid.factor),
                        boundless=True, fill_value=0)
    return share > 127


def scene_parts(path: str, checkpoint, settings: SceneSettings, water_truth) -> dict:
    run = open_run(path, checkpoint, settings, StageProgress(None, None))
    probs = CellBlender(run.index, run.grid, softmax(run.calibration.temperature * run.index.scores(
        embed(checkpoint, LABELS)))).blend(0, run.grid.height, 0, run.grid.width)
    levels = output_levels(run.info, run.grid)
    mode = dark_mode(levels, separation=BIMODAL_D, min_share=0.0)
    valid = np.isfinite(probs).all(axis=0) & np.isfinite(levels)
    with np.errstate(divide="ignore", invalid="ignore"):
        odds = np.log(probs[0]) - np.log(probs[1])
        dark = mode.log_odds(levels.astype(np.float64)) if mode else np.zeros_like(odds)
    truth = water_truth(run.grid)
    return {"odds": odds[valid], "dark": np.nan_to_num(dark[valid]), "truth": truth[valid],
            "share": min(mode.weights) if mode else 0.0}


def pooled_iou(parts: list[dict], weight: float, clip: float, share: float) -> tuple[float, float]:
    inter, union = np.zeros(2), np.zeros(2)
    for part in parts:
        used = weight if part["share"] >= share else 0.0
        water = part["odds"] + used * np.clip(part["dark"], -clip, clip) > 0
        for k, (pred, true) in enumerate(((water, part["truth"]), (~water, ~part["truth"]))):
            inter[k] += np.sum(pred & true)
            union[k] += np.sum(pred | true)
    iou = inter / np.maximum(union, 1)
    return float(iou[0]), float(iou[1])


def sea_levels(ships: Path) -> np.ndarray:
    """Median VV sigma0 in dB of each training ship chip's calibrated twin (complex SLC chips, and chips
    without a twin, skipped)."""
    levels = []
    for line in ships.read_text(encoding="utf-8").splitlines():
        calibrated = Path(json.loads(line)["filepath"].replace("/Patch/", "/Patch_Cal/"))
        if not calibrated.exists():  # a few chips have no calibrated twin
            continue
        with rasterio.open(calibrated) as ds:
            band = ds.read(1)
        if not np.iscomplexobj(band) and np.nanmedian(band) > 0:
            levels.append(10 * np.log10(np.nanmedian(band)))
    return np.array(levels)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ssdd", type=Path, help="SSDD training records (jsonl with sealand context)")
    parser.add_argument("--composed", type=Path, help="composed MSTAR training scenes (jsonl)")
    parser.add_argument("--ships", type=Path, help="OpenSARShip training records: print the calm-sea level fit only")
    parser.add_argument("--model", default="default")
    parser.add_argument("--scenes", type=int, default=120, help="open-sea SSDD scenes and composed scenes (seeded samples); all coastal SSDD scenes are used")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if args.ships:
        levels = sea_levels(args.ships)
        print(f"{len(levels)} calibrated training chips: sea VV sigma0 {levels.mean():.2f} dB, sd {levels.std():.2f} dB")
        return
    if not (args.ssdd and args.composed):
        parser.error("give --ssdd and --composed (or --ships)")
    checkpoint = load_model(args.model)
    parts = []
    with tempfile.TemporaryDirectory() as index_dir:
        settings = SceneSettings(index_dir=index_dir)
        ssdd = records(args.ssdd, 10 ** 6, args.seed)
        coastal = [r for r in ssdd if r.get("context", {}).get("land_share", 0) > 0]
        for record in coastal + [r for r in ssdd if r not in coastal][:args.scenes]:
            parts.append(scene_parts(record["filepath"], checkpoint, settings,
                                     lambda grid, image=record["filepath"]: sea_mask(image, grid)))
        for record in records(args.composed, args.scenes, args.seed):
            parts.append(scene_parts(record["filepath"], checkpoint, settings,
                                     lambda grid: np.zeros((grid.height, grid.width), bool)))
    print(f"{len(parts)} training scenes; pooled IoU water / land / mean")
    water, land = pooled_iou(parts, 0.0, 1.0, 0.0)
    print(f"model alone: {100 * water:5.1f} / {100 * land:5.1f} / {50 * (water + land):5.1f}")
    results = {}
    for share in SHARES:
        for weight in WEIGHTS:
            for clip in CLIPS:
                water, land = pooled_iou(parts, weight, clip, share)
                results[(weight, clip, share)] = (water, land, (water + land) / 2)
                print(f"min share {share:4.2f} weight {weight:3.1f} clip {clip:3.1f}: {100 * water:5.1f} / "
                      f"{100 * land:5.1f} / {50 * (water + land):5.1f}")
    best = max(results, key=lambda key: results[key][2])
    print(f"best: weight {best[0]}, clip {best[1]}, min share {best[2]}")
    for name, subset in (("SSDD coastal", parts[:len(coastal)]), ("SSDD open sea", parts[len(coastal):-args.scenes]),
                         ("composed clutter", parts[-args.scenes:])):
        for weight, clip, share in ((0.0, 1.0, 0.0), best):
            water, land = pooled_iou(subset, weight, clip, share)
            print(f"{name} ({len(subset)}), weight {weight} clip {clip} min share {share}: "
                  f"water {100 * water:.1f} land {100 * land:.1f}")


if __name__ == "__main__":
    main()
