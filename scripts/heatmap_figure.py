"""The model card's figure: held-out SSDD images with their true boxes over the "ship" map, best location and peaks.

    .venv/bin/python scripts/heatmap_figure.py OUT.png [--records outputs/model/ssdd.val.jsonl] [--model default]

Top row: the image (square-root amplitude) with true boxes in cyan. Bottom row: the engine's "ship"
map as written (probability x radar return) on the fixed 0-1 scale, its best location (green cross) and its
confirmed count peaks
(cyan circles), exactly as the evaluation tasks read them (sarclip_core.evaluate.scene_runs).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from matplotlib.patches import Rectangle

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sarclip_core.evaluate.classical import brightness  # noqa: E402
from sarclip_core.evaluate.scene_runs import SceneRunner  # noqa: E402
from sarclip_core.figures import new_figure  # noqa: E402
from sarclip_core.model.resolve import load_model  # noqa: E402

IMAGES = ("000007", "000056", "000103", "000137", "000175", "000254")  # held-out part of the seeded split


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--records", type=Path, default=Path("outputs/model/ssdd.val.jsonl"))
    parser.add_argument("--model", default="default")
    args = parser.parse_args()
    records = {Path(r["filepath"]).stem: r for r in map(json.loads, args.records.read_text().splitlines())}
    figure, _ = new_figure((18, 6.4), dpi=90)
    figure.clear()
    with SceneRunner(load_model(args.model)) as runner:
        for k, name in enumerate(IMAGES):
            record = records[name]
            path = record["filepath"]
            heatmap, best = runner.heatmap(path, "ship")
            top = figure.add_subplot(2, len(IMAGES), k + 1)
            top.imshow(np.sqrt(np.nan_to_num(brightness(path))), cmap="gray")
            for box in record["boxes"]:
                x0, y0, x1, y1 = box["bbox"]
                top.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, ec="cyan", lw=1))
            top.set_title(name)
            bottom = figure.add_subplot(2, len(IMAGES), len(IMAGES) + k + 1)
            bottom.imshow(heatmap.on_image(), cmap="magma", vmin=0, vmax=1)
            for x, y, _ in runner.peaks(path, "ship", None):
                bottom.plot(x, y, "o", mfc="none", mec="cyan", ms=7)
            if best:
                bottom.plot(*best, "+", color="lime", ms=14, mew=2)
            for axes in (top, bottom):
                axes.set_xticks([])
                axes.set_yticks([])
    figure.tight_layout()
    figure.savefig(args.out)


if __name__ == "__main__":
    main()
