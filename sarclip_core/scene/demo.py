"""`python -m sarclip_core.scene.demo`: a text query with the default model on the shipped demo scene.

The demo scene (resources/demo/) is real MSTAR targets composed into real MSTAR clutter by
sarclip_core.d2c.compose; `--make-scene` rebuilds it from ../shared/data/mstar_soc17.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from ..d2c.compose import ChipLibrary, ComposeSettings, compose_scene
from ..errors import SarclipError
from .api import text_query

DEMO = Path(__file__).resolve().parents[2] / "resources" / "demo"
SCENE = DEMO / "mstar_composed_768.png"
BOXES = DEMO / "mstar_composed_768.json"


def make_scene(mstar: Path, seed: int = 7) -> None:
    """Compose the 768x768 demo scene (T72 and BMP2 targets) and record its target boxes."""
    library = ChipLibrary(mstar, {})
    library.paths = {label: library.paths[label] for label in ("T72", "BMP2")}
    scene, boxes = compose_scene(library, ComposeSettings(size=768, max_objects=8, empty_share=0.0), random.Random(seed))
    Image.fromarray(np.clip(scene, 0, 255).astype(np.uint8)).save(SCENE)
    BOXES.write_text(json.dumps([{"label": b.label, "box": [b.xmin, b.ymin, b.xmax, b.ymax]} for b in boxes], indent=1))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sarclip_core.scene.demo", description=__doc__)
    parser.add_argument("--query", default="tank; armoured vehicle")
    parser.add_argument("--out", type=Path, default=Path("outputs/demo"))
    parser.add_argument("--model", default="default")
    parser.add_argument("--make-scene", type=Path, metavar="MSTAR_DIR", help="rebuild the demo scene first")
    args = parser.parse_args(argv)
    try:
        if args.make_scene:
            make_scene(args.make_scene)
        args.out.mkdir(parents=True, exist_ok=True)
        result = text_query(SCENE, args.query, args.out / "heatmap.tif", args.model)
    except SarclipError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    truth = json.loads(BOXES.read_text())
    print(f"scene: {SCENE} (real MSTAR targets in real MSTAR clutter, {len(truth)} targets: "
          f"{', '.join(sorted({t['label'] for t in truth}))})")
    print(f"query '{args.query}': {result['message']}")
    for peak in result["peaks"][:5]:
        print(f"  peak at pixel ({peak['x']:.0f}, {peak['y']:.0f}) score {peak['score']:.3f}")
    for what, path in result["outputs"].items():
        print(f"{what}: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
