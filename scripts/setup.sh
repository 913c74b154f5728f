#!/usr/bin/env bash
# Installs everything the project needs on a Debian 12 machine (as root): Debian's QGIS 3.22 with
# PyQGIS, GDAL, rasterio and Xvfb, then a virtualenv with the pinned Python packages.
# Idempotent: each step is skipped when its result is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-.venv}
APT_PACKAGES="qgis python3-qgis qgis-providers python3-rasterio python3-venv gdal-bin xvfb xauth make"

missing=""
for pkg in $APT_PACKAGES; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing="$missing $pkg"
done
if [ -n "$missing" ]; then
    echo "setup: installing Debian packages:$missing"
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends $missing
fi

stamp="$VENV/.requirements.sha"
want=$(cat requirements.txt constraints.txt | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    exit 0
fi
[ -x "$VENV/bin/python" ] || /usr/bin/python3 -m venv --system-site-packages "$VENV"
echo "setup: installing Python packages into $VENV"
"$VENV/bin/pip" install -q --disable-pip-version-check -r requirements.txt -c constraints.txt
"$VENV/bin/python" -c "import torch, torchvision, open_clip, onnx, onnxruntime, rasterio, qgis.core, numpy; assert numpy.__version__ < '2'"
echo "$want" > "$stamp"
echo "setup: done"
