"""Where the tests find the repository and the real data beside it."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
SENTINEL1 = DATA / "sentinel1" / "S1A__IW___A_20150309T173017_VV_grd_mli_geo_norm_db.tif"
