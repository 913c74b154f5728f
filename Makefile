# SARCLIP for QGIS — the commands people run. Every target sets itself up first.
VENV   ?= .venv
PYTHON := $(VENV)/bin/python
export QT_QPA_PLATFORM ?= offscreen
export HF_HUB_OFFLINE ?= 1

.PHONY: setup test bench demo

setup:
	./scripts/setup.sh

test: setup
	$(VENV)/bin/ruff check .
	$(PYTHON) -m pytest

bench: setup
	$(PYTHON) bench/io_memory.py
	$(PYTHON) bench/scene_bench.py
	$(PYTHON) bench/encoder_bench.py
	$(PYTHON) bench/onnx_bench.py
	$(PYTHON) bench/train_bench.py
	$(PYTHON) bench/batch_bench.py

# The main job: a text query with the bundled default model on the demo SAR scene in sarclip_core/resources/demo/.
demo: setup
	$(PYTHON) -m sarclip_core.scene.demo

# A caption corpus from the real SAR data in ../shared/data.
DATA ?= ../shared/data
OUT  ?= outputs/captions
MSTAR_CONTEXT := sensor=MSTAR,band=X,mode=spotlight,resolution_m=0.3,depression_deg=17
.PHONY: captions
captions: setup
	mkdir -p $(OUT)
	$(PYTHON) -m sarclip_core.d2c --format folder --images $(DATA)/mstar_soc17 --context "$(MSTAR_CONTEXT)" \
		--out $(OUT)/mstar.csv --jsonl $(OUT)/mstar.jsonl
	$(PYTHON) -m sarclip_core.d2c --format opensarship --images $(DATA)/opensarship \
		--out $(OUT)/opensarship.csv --jsonl $(OUT)/opensarship.jsonl
	$(PYTHON) -m sarclip_core.d2c --format mask --annotations $(DATA)/hrsid \
		--out $(OUT)/hrsid.csv --jsonl $(OUT)/hrsid.jsonl
	$(PYTHON) -m sarclip_core.d2c --format compose --images $(DATA)/mstar_soc17 --context "$(MSTAR_CONTEXT)" \
		--scenes 500 --out-images $(OUT)/composed --out $(OUT)/composed.csv --jsonl $(OUT)/composed.jsonl
	$(PYTHON) -m sarclip_core.d2c --format yolo --annotations $(DATA)/ssdd/labels --images $(DATA)/ssdd/images \
		--classes $(DATA)/ssdd/classes.txt --sealand $(DATA)/ssdd/sealand --out $(OUT)/ssdd.csv --jsonl $(OUT)/ssdd.jsonl
	$(PYTHON) -m sarclip_core.d2c --format floods --images $(DATA)/sen1floods11/S1 --annotations $(DATA)/sen1floods11/Labels \
		--out $(OUT)/floods.csv --jsonl $(OUT)/floods.jsonl
	$(PYTHON) -m sarclip_core.d2c --format records --annotations $(OUT)/ssdd.jsonl --windows 3 \
		--out-images $(OUT)/ssdd_windows --out $(OUT)/ssdd_windows.csv --jsonl $(OUT)/ssdd_windows.jsonl

# The QGIS plugin: dist/sarclip_qgis-<version>.zip, and the desktop test (real QGIS under Xvfb, screenshot).
.PHONY: package gui-test
package: setup
	$(PYTHON) scripts/package.py
gui-test: package
	./scripts/gui_test.sh

# The bundled default model, reproduced from ../shared/data (seeded; tens of minutes on 2 cores; not part of `make test`).
.PHONY: model
model: setup
	DATA=$(DATA) ./scripts/make_model.sh
