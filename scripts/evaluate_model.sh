#!/usr/bin/env bash
# Evaluates the default model on the held-out data `scripts/make_model.sh` left in $OUT, beside its
# baselines: the same recipe without stage 1 (if trained), and the same weights with AnyReader off.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/model_paths.sh

# Large held-out images for the AnyReader ablation: HRSID's 800x800 ship scenes (never trained on)
# and 512x512 scenes composed from held-out MSTAR chips.
$PY -m sarclip_core.d2c --format mask --annotations "$DATA/hrsid" --out "$OUT/hrsid.csv" --jsonl "$OUT/hrsid.jsonl"
$PY -m sarclip_core.d2c --format compose --images "$OUT/mstar/val" --context "$MSTAR_CONTEXT" --seed 2 \
    --scenes 60 --scene-size 512 --max-objects 6 --out-images "$OUT/composed_large" \
    --out "$OUT/composed_large.csv" --jsonl "$OUT/composed_large.jsonl"
$PY - "$MODEL_DIR" "$OUT/no-anyreader" <<'PYEOF'
import sys
from sarclip_core.model import load_checkpoint, save_checkpoint
c = load_checkpoint(sys.argv[1])
c.reader.enabled = False
save_checkpoint(sys.argv[2], c.model, c.config, c.reader, c.normalisation, c.channels, c.labels, c.train_args)
PYEOF

cat > "$OUT/eval.yaml" <<'YAML'
tasks:
  - {task: zeroshot, data: mstar/val}
  - {task: fewshot, data: mstar/train, test_data: mstar/val, shots: [1, 5, 10], trials: 5}
  - {task: linear-probe, data: mstar/train, test_data: mstar/val}
  - {task: retrieval, data: mstar_val.jsonl}
  - {task: retrieval, data: ships.val.jsonl}
  - {task: retrieval, data: composed_val.jsonl}
  - {task: counting, format: jsonl, data: composed_val.jsonl}
  - {task: count-probe, data: composed_train.jsonl, test_data: composed_val.jsonl}
YAML
cat > "$OUT/anyreader.yaml" <<'YAML'
tasks:
  - {task: retrieval, data: composed_large.jsonl}
  - {task: counting, format: jsonl, data: composed_large.jsonl}
  - {task: counting, format: jsonl, data: hrsid.jsonl}
  - {task: retrieval, data: composed_val.jsonl}
  - {task: counting, format: jsonl, data: composed_val.jsonl}
YAML

# Scene tasks: the scene engine on held-out scenes beside the classical method an analyst would use
# (brightest patch, a CA-CFAR fitted on the SSDD training part, an Otsu water threshold).
DATA_ABS=$(realpath "$DATA")
cat > "$OUT/scenes.yaml" <<YAML
tasks:
  - {task: pointing, format: jsonl, data: ssdd.val.jsonl, query: ship}
  - {task: detection, format: jsonl, data: ssdd.val.jsonl, query: ship, fit_data: ssdd.train.jsonl}
  - {task: pointing, format: mask, annotations: $DATA_ABS/hrsid, query: ship}
  - {task: detection, format: mask, annotations: $DATA_ABS/hrsid, query: ship, fit_data: ssdd.train.jsonl}
  - {task: segmentation, images: $DATA_ABS/sen1floods11/S1, masks: $DATA_ABS/sen1floods11/Labels, labels: "water, land"}
YAML

BASELINE=()
[ -d "$OUT/baseline-no-ssl" ] && BASELINE=(--baseline "$OUT/baseline-no-ssl")
$PY -m sarclip_core.evaluate all --config "$OUT/eval.yaml" --model "$MODEL_DIR" "${BASELINE[@]}" \
    --json "$OUT/eval/metrics.json" --report "$OUT/eval" --quiet
$PY -m sarclip_core.evaluate all --config "$OUT/anyreader.yaml" --model "$MODEL_DIR" --baseline "$OUT/no-anyreader" \
    --json "$OUT/eval-anyreader/metrics.json" --report "$OUT/eval-anyreader" --quiet
$PY -m sarclip_core.evaluate all --config "$OUT/scenes.yaml" --model "$MODEL_DIR" \
    --json "$OUT/eval-scenes/metrics.json" --report "$OUT/eval-scenes" --quiet
echo "reports: $OUT/eval/report.md, $OUT/eval-anyreader/report.md, $OUT/eval-scenes/report.md"
