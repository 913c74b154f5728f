"""What a task run produces: metrics plus what the report needs to show (data, images, problems, time, matrices)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class Confusion:
    """A confusion matrix with its row/column labels (rows: truth, columns: prediction)."""

    title: str
    labels: list[str]
    matrix: np.ndarray

    def to_dict(self) -> dict[str, Any]:
        return {"title": self.title, "labels": self.labels, "matrix": self.matrix.tolist()}


@dataclass
class TaskResult:
    """One task on one model: metrics (percentages, or counts for MAE) and the facts the report states.

    Scene tasks add the classical method an analyst would use instead (brightest patch, CFAR, Otsu), run on
    the same images: its metrics under a key naming it, in the JSON and beside the model in the table.
    """

    task: str
    data: str
    images: int
    metrics: dict[str, float]
    problems: list[str] = field(default_factory=list)
    confusions: list[Confusion] = field(default_factory=list)
    table: list[dict[str, Any]] = field(default_factory=list)
    model: str = ""
    seconds: float = 0.0
    classical: dict[str, dict[str, float]] = field(default_factory=dict)  # method key -> its metrics, same images
    classical_methods: dict[str, str] = field(default_factory=dict)  # method key -> what it is, its parameters
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"task": self.task, "model": self.model, "data": self.data, "images": self.images,
                "seconds": round(self.seconds, 3), "metrics": self.metrics, "problems": self.problems,
                "table": self.table, "confusions": [c.to_dict() for c in self.confusions], "notes": self.notes,
                **self.classical, **({"classical_methods": self.classical_methods} if self.classical else {})}
