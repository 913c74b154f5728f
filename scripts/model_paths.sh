# Shared settings of scripts/make_model.sh and scripts/evaluate_model.sh (sourced, from the repo root).
PY=${PYTHON:-.venv/bin/python}
DATA=${DATA:-../shared/data}
OUT=${OUT:-outputs/model}
MODEL_DIR=${MODEL_DIR:-sarclip_core/resources/models/sarclip-tiny}
MSTAR_CONTEXT="sensor=MSTAR,band=X,mode=spotlight,resolution_m=0.3,depression_deg=17"
