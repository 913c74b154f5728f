#!/usr/bin/env bash
# Desktop test (make gui-test): the packaged plugin in a real QGIS under Xvfb. A fresh profile gets the
# zip unpacked and the plugin enabled; scripts/gui_test_qgis.py then drives the dock through six steps
# (text query, label set and count on the real Sentinel-1 scene; a text query, an example picked on the
# map and a run whose input layer is removed mid-run on an HRSID PNG without CRS), checks each result
# layer and saves one screenshot per step.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-.venv/bin/python}
OUT=${OUT:-outputs/gui-test}
SCENE=${SCENE:-../shared/data/sentinel1/S1A__IW___A_20150309T173017_VV_grd_mli_geo_norm_db.tif}
PNG=${PNG:-../shared/data/hrsid/P0094_0_800_3000_3800.png}  # a scene without CRS
ZIP=$(ls -t dist/sarclip_qgis-*.zip | head -1)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
profile="$work/profiles/default"
mkdir -p "$profile/python/plugins" "$profile/QGIS" "$OUT"
rm -rf "$OUT"/*.png "$OUT/result.json" "$OUT/results"
unzip -q "$ZIP" -d "$profile/python/plugins"
cat > "$profile/QGIS/QGIS3.ini" <<INI
[PythonPlugins]
sarclip_qgis=true
[qgis]
showTips=false
checkVersion=false
INI

# the bundled default model when the zip has one, else a random one (the test is about the plumbing)
MODEL=default
if [ ! -d "$profile/python/plugins/sarclip_qgis/engine/sarclip_core/resources/models/sarclip-tiny" ]; then
    MODEL="$work/model"
    "$PYTHON" -c "import sys; from sarclip_core.model import create_model, model_config, save_checkpoint; \
save_checkpoint(sys.argv[1], create_model('sarclip-tiny-rn'), model_config('sarclip-tiny-rn'))" "$MODEL" 2>/dev/null
fi

site=$("$PYTHON" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
env -u QT_QPA_PLATFORM -u QGIS_CUSTOM_CONFIG_PATH \
    PYTHONPATH="$site" SARCLIP_CACHE="$work/cache" HF_HUB_OFFLINE=1 \
    SARCLIP_GUI_SCENE="$(realpath "$SCENE")" SARCLIP_GUI_PNG="$(realpath "$PNG")" SARCLIP_GUI_MODEL="$MODEL" SARCLIP_GUI_OUT="$(realpath "$OUT")" \
    timeout 600 xvfb-run -a -s "-screen 0 1366x768x24" \
    qgis --nologo --noversioncheck --profiles-path "$work" --code scripts/gui_test_qgis.py >"$OUT/qgis.log" 2>&1 || true

if [ ! -f "$OUT/result.json" ]; then
    echo "gui-test: QGIS wrote no result (log: $OUT/qgis.log)" >&2
    tail -20 "$OUT/qgis.log" >&2
    exit 1
fi
cat "$OUT/result.json"; echo
"$PYTHON" -c "import json, sys; r = json.load(open(sys.argv[1])); sys.exit(0 if r['ok'] else 1)" "$OUT/result.json"
for shot in 01-s1-ship 02-s1-labels 03-s1-count 04-png-ship 05-png-example 06-png-removed; do
    test -s "$OUT/$shot.png"
done
echo "gui-test: passed; screenshots $OUT/0*.png"
