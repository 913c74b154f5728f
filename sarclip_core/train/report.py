"""What a run leaves behind: a log file, per-step and per-epoch metrics (JSONL) and a loss curve PNG."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

STEPS_FILE = "steps.jsonl"
EPOCHS_FILE = "metrics.jsonl"
LOG_FILE = "out.log"
CURVE_FILE = "loss_curve.png"


class RunLog:
    """Rank 0's record of a run; appends, so a resumed run continues the same files. The run folder is made
    on the first record, so a run refused for bad input leaves no empty log folder behind."""

    def __init__(self, run_dir: Path, enabled: bool = True):
        self.run_dir, self.enabled = run_dir, enabled
        self.logger = logging.getLogger(f"sarclip.train.{run_dir}")
        self.logger.setLevel(logging.INFO)
        self.logger.propagate = False

    def _ready(self) -> None:
        """The run folder and its log file, made once (a resumed run's are reused)."""
        if not self.logger.handlers:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            handler = logging.FileHandler(self.run_dir / LOG_FILE, encoding="utf-8")
            handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
            self.logger.addHandler(handler)

    def info(self, message: str) -> None:
        if self.enabled:
            self._ready()
            self.logger.info(message)
            print(message, flush=True)

    def step(self, values: dict[str, Any]) -> None:
        self._append(STEPS_FILE, values)

    def epoch(self, values: dict[str, Any]) -> None:
        self._append(EPOCHS_FILE, values)
        self.info("epoch " + " ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                                      for k, v in values.items()))

    def _append(self, name: str, values: dict[str, Any]) -> None:
        if self.enabled:
            self._ready()
            with open(self.run_dir / name, "a", encoding="utf-8") as handle:
                handle.write(json.dumps(values) + "\n")


def plot_losses(run_dir: Path) -> Path | None:
    """Loss (and learning rate) against step from steps.jsonl, including steps from before a resume."""
    steps_file = run_dir / STEPS_FILE
    if not steps_file.is_file():
        return None
    from ..figures import new_figure  # matplotlib only when a curve is drawn

    latest: dict[int, dict[str, Any]] = {}
    for line in steps_file.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        latest[record["step"]] = record  # a resumed run repeats steps after its checkpoint: keep the last
    steps = sorted(latest)
    fig, ax = new_figure((7, 4))
    ax.plot(steps, [latest[s]["loss"] for s in steps], lw=1, label="loss")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    lr_ax = ax.twinx()
    lr_ax.plot(steps, [latest[s]["lr"] for s in steps], color="tab:orange", lw=1, label="learning rate")
    lr_ax.set_ylabel("learning rate")
    ax.set_title(run_dir.name)
    fig.tight_layout()
    path = run_dir / CURVE_FILE
    fig.savefig(path, dpi=100)
    return path
