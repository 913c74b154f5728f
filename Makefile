# SARCLIP for QGIS — the commands people run. Every target sets itself up first.
VENV   ?= .venv
PYTHON := $(VENV)/bin/python
export QT_QPA_PLATFORM ?= offscreen
export HF_HUB_OFFLINE ?= 1

.PHONY: setup test bench

setup:
	./scripts/setup.sh

test: setup
	$(PYTHON) -m pytest

bench: setup
	$(PYTHON) bench/io_memory.py
