"""`python -m sarclip_core.scene.demo`: a text query with the default model on the shipped demo scene.

The demo scene (sarclip_core/resources/demo/) is real MSTAR targets composed into real MSTAR clutter by
sarclip_core.d2c.compose; `--make-scene` rebuilds it from ../shared/data/mstar_soc17.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import warnings
from pathlib import Path

import numpy as np
from PIL import Image

from ..cli import run_cli
from ..d2c.compose import ChipLibrary, ComposeSettings, compose_scene
from ..data.split import class_split
from ..io import describe
from ..io.raster import NoCrsWarning
from ..package_data import resource
from .api import text_query

DEMO = resource("demo")
SCENE = DEMO / "mstar_composed_768.png"
BOXES = DEMO / "mstar_composed_768.json"
HELD_OUT_SHARE, HELD_OUT_SEED = 0.2, 0  # the default model's held-out MSTAR split (scripts/make_model.sh)


def make_scene(mstar: Path, seed: int = 3) -> None:
    """Compose the 768x768 demo scene (T72 and BMP2 targets) and record its target boxes.

    Targets and clutter come only from the chips `make model` holds out, so the default model has
    never seen them.
    """
    library = ChipLibrary(mstar, {})
    held_out = class_split(mstar, HELD_OUT_SHARE, HELD_OUT_SEED)
    library.paths = {label: held_out[label][1] for label in ("T72", "BMP2")}
    library.all = [path for _, val in held_out.values() for path in val]
    scene, boxes = compose_scene(library, ComposeSettings(size=768, max_objects=8, empty_share=0.0), random.Random(seed))
    Image.fromarray(np.clip(scene, 0, 255).astype(np.uint8)).save(SCENE)
    BOXES.write_text(json.dumps([{"label": b.label, "box": [b.xmin, b.ymin, b.xmax, b.ymax]} for b in boxes], indent=1))


def main(argv: list[str] | None = None) -> int:
    """Run the demo: a text query with the default model on the demo scene; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m sarclip_core.scene.demo", description=__doc__)
    parser.add_argument("--query", default="tank; armoured vehicle")
    parser.add_argument("--out", type=Path, default=Path("outputs/demo"))
    parser.add_argument("--model", default="default")
    parser.add_argument("--peak-threshold", type=float,
                        help="probability (0-1) a peak must reach (default: the model's calibrated threshold)")
    parser.add_argument("--make-scene", type=Path, metavar="MSTAR_DIR", help="rebuild the demo scene first")
    args = parser.parse_args(argv)
    return run_cli(lambda: run_demo(args))


def run_demo(args: argparse.Namespace) -> None:
    """Query the demo scene and print what was found against the recorded target boxes."""
    if args.make_scene:
        make_scene(args.make_scene)
    args.out.mkdir(parents=True, exist_ok=True)
    result = text_query(SCENE, args.query, args.out / "heatmap.tif", args.model, peak_threshold=args.peak_threshold)
    truth = json.loads(BOXES.read_text())
    print(f"scene: {SCENE} (real MSTAR targets in real MSTAR clutter, {len(truth)} targets: "
          f"{', '.join(sorted({t['label'] for t in truth}))})")
    print(f"query '{args.query}': {result['message']}")
    with warnings.catch_warnings():  # the query already said the scene has no CRS
        warnings.simplefilter("ignore", NoCrsWarning)
        to_pixel = ~describe(SCENE).affine  # map coordinates are QGIS's pixel frame here
    peaks = [dict(zip(("x", "y"), to_pixel * (p["x"], p["y"])), score=p["score"]) for p in result["peaks"]]
    for peak in peaks[:5]:
        hit = next((t["label"] for t in truth if _inside(peak, t["box"])), None)
        print(f"  peak at pixel ({peak['x']:.0f}, {peak['y']:.0f}) score {peak['score']:.3f}"
              f" -> {'on a ' + hit if hit else 'background'}")
    found = sum(any(_inside(peak, t["box"]) for peak in peaks) for t in truth)
    print(f"targets with a peak on them: {found} of {len(truth)}; peaks: {len(result['peaks'])}")
    for what, path in result["outputs"].items():
        print(f"{what}: {path}")


def _inside(peak: dict, box: list[float], margin: float = 16.0) -> bool:
    """A peak within a target's box (plus a margin: the map resolves about a scene cell, 32 px)."""
    xmin, ymin, xmax, ymax = box
    return xmin - margin <= peak["x"] <= xmax + margin and ymin - margin <= peak["y"] <= ymax + margin


if __name__ == "__main__":
    sys.exit(main())
