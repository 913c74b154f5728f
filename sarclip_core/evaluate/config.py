"""Evaluation configs: reading one and checking its tasks' inputs, without PyTorch (so bad input fails at once)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..configs import read_config
from ..errors import SarclipError

TASK_NAMES = ("retrieval", "zeroshot", "fewshot", "linear-probe", "counting", "count-probe", "pointing", "detection",
              "segmentation")  # suite.TASKS's keys
PATH_OPTIONS = ("data", "test_data", "annotations", "images", "masks", "fit_data", "fit_annotations",
                "fit_images")  # resolved against a config file's folder


def load_config(path: str | os.PathLike) -> dict[str, Any]:
    """An evaluation config (YAML or JSON): optional model, baseline, batch_size, and a list of tasks.

        model: default            # --model / --baseline on the command line win
        baseline: RN50
        tasks:
          - {task: zeroshot, data: mstar/test}
          - {task: fewshot, data: mstar/test, shots: [1, 5], trials: 3}
          - {task: counting, format: jsonl, data: scenes.jsonl}

    Relative paths in tasks, and a model or baseline that is a folder beside the config, are relative to it.
    A task's input that does not exist is one line here, before any model loads.
    """
    path = Path(path)
    config = read_config(path)
    if not isinstance(config.get("tasks"), list) or not config["tasks"]:
        raise SarclipError(f"{path}: needs a non-empty 'tasks' list")
    tasks = []
    for number, entry in enumerate(config["tasks"], 1):
        if not isinstance(entry, dict) or "task" not in entry:
            raise SarclipError(f"{path}: task {number} needs a 'task' name ({', '.join(TASK_NAMES)})")
        options = {key.replace("-", "_"): value for key, value in entry.items() if key != "task"}
        for key in PATH_OPTIONS:
            if isinstance(options.get(key), str):
                options[key] = str(path.parent / options[key])
                if not Path(options[key]).exists():
                    raise SarclipError(f"{path}: task {number} ({entry['task']}): {key} {options[key]} not found")
        tasks.append((str(entry["task"]), options))
    models = {key: str(path.parent / config[key]) for key in ("model", "baseline")
              if isinstance(config.get(key), str) and (path.parent / config[key]).is_dir()}
    return {**config, **models, "tasks": tasks}
