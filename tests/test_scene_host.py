"""The engine runs inside QGIS beside other plugins: a query leaves the host process's global state as it was.

Checked in a fresh process, since importing the engine is part of what could change the host.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from paths import ROOT

CHILD = """
import json, logging, sys
import matplotlib
from osgeo import ogr, osr

def state():
    return [matplotlib.get_backend(), ogr.GetUseExceptions(), osr.GetUseExceptions(),
            logging.root.manager.disable, len(logging.root.filters)]

before = state()
import torch
from sarclip_core.model import create_model, load_model, model_config, save_checkpoint
from sarclip_core.scene import SceneSettings, classify_labels, count_objects, text_query
work, scene = sys.argv[1], sys.argv[2]
torch.manual_seed(0)
save_checkpoint(work + "/model", create_model("sarclip-tiny-rn"), model_config("sarclip-tiny-rn"))
model, settings = load_model(work + "/model"), SceneSettings(index_dir=work + "/i")
text_query(scene, "ship", work + "/h.tif", model, settings)  # draws a matplotlib quick-look
classify_labels(scene, "water, land", work + "/l.tif", work + "/c.tif", model, settings)
count_objects(scene, "ship", 1000.0, work + "/n.gpkg", model=model, settings=settings)  # writes with OGR
print(json.dumps({"before": before, "after": state()}))
"""


def test_importing_the_engine_and_querying_leave_backend_gdal_and_logging_as_they_were(tmp_path, sentinel1):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "svg", "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-c", CHILD, str(tmp_path), str(sentinel1)], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    states = json.loads(done.stdout.strip().splitlines()[-1])
    assert states["after"] == states["before"]
    assert (tmp_path / "h.png").is_file() and (tmp_path / "n.gpkg").is_file()
