"""The report of a suite run: a markdown file with the main table and per-task details, PNG plots, and JSON."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from ..figures import new_figure
from ..files import atomic_file, atomic_text
from .embeddings import Embedder
from .results import Confusion, TaskResult
from .suite import TaskRun

MAX_PROBLEMS_LISTED = 10
STD = "_std"


def describe_model(embedder: Embedder) -> str:
    """A model in one line: its spec, size, native input size and whether AnyReader fuses tiles."""
    checkpoint = embedder.checkpoint
    parameters = sum(p.numel() for p in checkpoint.model.parameters()) / 1e6
    reader = checkpoint.reader
    return (f"`{embedder.label}` ({parameters:.2f} M parameters, {reader.native_size} px tiles, "
            f"AnyReader {'on' if reader.enabled else 'off (plain resize)'})")


def format_metric(name: str, metrics: dict[str, float]) -> str:
    """"45.3" for a percentage, "0.42" for an MAE, "54.2 ± 3.1" where a spread over trials is known."""
    value = metrics[name]
    text = f"{value:.2f}" if "mae" in name else f"{value:.1f}"
    spread = metrics.get(name + STD)
    return f"{text} ± {spread:.1f}" if spread is not None else text


def has_classical(runs: list[TaskRun]) -> bool:
    """Whether any task ran a classical baseline (the report then gets its column)."""
    return any(run.result.classical for run in runs)


def header(runs: list[TaskRun]) -> list[str]:
    """The main table's columns: task, metric, model, then the baseline model and the classical method if any."""
    return ["task", "metric", "model"] + (["baseline"] if runs and runs[0].baseline else []) + \
        (["classical"] if has_classical(runs) else [])


def main_table(runs: list[TaskRun]) -> list[list[str]]:
    """Rows of (task, metric, model[, baseline][, classical method]) for every metric of every task."""
    rows = []
    classical = has_classical(runs)
    for run in runs:
        for name in run.result.metrics:
            if name.endswith(STD):
                continue
            row = [run.name, name, format_metric(name, run.result.metrics)]
            if run.baseline:
                row.append(format_metric(name, run.baseline.metrics) if name in run.baseline.metrics else "")
            if classical:
                row.append(next((f"{format_metric(name, metrics)} ({method})"
                                 for method, metrics in run.result.classical.items() if name in metrics), ""))
            rows.append(row)
    return rows


def text_table(runs: list[TaskRun]) -> str:
    """The main table as aligned plain text, for the terminal."""
    rows = [header(runs)] + main_table(runs)
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows)


def write_json(path: str | os.PathLike, runs: list[TaskRun], models: dict[str, str], seconds: float) -> Path:
    """All metrics, options and per-task facts as JSON (written atomically)."""
    document: dict[str, Any] = {"models": models, "seconds": round(seconds, 3), "tasks": [
        {"task": run.name, "options": run.options, "model": run.result.to_dict(),
         "baseline": run.baseline.to_dict() if run.baseline else None} for run in runs]}
    return _write_text(Path(path), json.dumps(document, indent=2, default=str) + "\n")


def write_report(directory: str | os.PathLike, runs: list[TaskRun], models: dict[str, str], seconds: float) -> Path:
    """report.md plus PNG plots (confusion matrices, few-shot curve) in directory; returns the markdown path."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    lines = ["# SARCLIP evaluation", ""]
    lines += [f"- {role}: {text}" for role, text in models.items()]
    lines += [f"- run: {time.strftime('%Y-%m-%d %H:%M')}, {seconds:.1f} s in all (a task's time includes encoding "
              f"only the images no earlier task of the run embedded)",
              "- metrics are percentages, except MAE (objects); ± is the spread over trials", "",
              "## Main table", "", *_markdown_table(header(runs), main_table(runs))]
    for number, run in enumerate(runs, 1):
        lines += ["", f"## {number}. {run.name}", ""]
        for role, result in (("model", run.result), ("baseline", run.baseline)):
            if result is not None:
                lines += _details(directory, f"{number:02d}-{run.name}-{role}", role, result)
        if run.name == "fewshot":
            lines += [f"![few-shot accuracy]({_fewshot_plot(directory / f'{number:02d}-fewshot.png', run).name})"]
    return _write_text(directory / "report.md", "\n".join(lines).rstrip() + "\n")


def _details(directory: Path, stem: str, role: str, result: TaskResult) -> list[str]:
    lines = [f"**{role}** `{result.model}`: data {result.data}; {result.images} images; {result.seconds:.1f} s; "
             f"problems (skipped images, annotations): {len(result.problems)}", ""]
    lines += [f"- {note}" for note in result.notes]
    lines += [f"- classical baseline `{method}`: {text}" for method, text in result.classical_methods.items()]
    lines += [""] * bool(result.notes or result.classical_methods)
    listed = [f"- {problem}" for problem in result.problems[:MAX_PROBLEMS_LISTED]]
    if len(result.problems) > MAX_PROBLEMS_LISTED:
        listed.append(f"- ... and {len(result.problems) - MAX_PROBLEMS_LISTED} more")
    lines += listed + [""] * bool(listed)
    if result.table:
        columns = list(result.table[0])
        lines += [*_markdown_table(columns, [[_cell(row[c]) for c in columns] for row in result.table]), ""]
    for index, confusion in enumerate(result.confusions):
        png = _confusion_plot(directory / f"{stem}-{index}.png", confusion, f"{role}: {result.model}")
        lines += [f"![{confusion.title}]({png.name})", ""]
    return lines


def _cell(value: Any) -> str:
    return f"{value:.2f}" if isinstance(value, float) else str(value)


def _markdown_table(header: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)] + ["| " + " | ".join(r) + " |" for r in rows]


def _confusion_plot(path: Path, confusion: Confusion, subtitle: str) -> Path:
    """Rows coloured by their share (so small classes show), cells labelled with counts."""
    matrix = confusion.matrix
    shares = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    size = 2.5 + 0.45 * len(confusion.labels)
    figure, axes = new_figure((size, size))
    axes.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    ticks = range(len(confusion.labels))
    axes.set_xticks(ticks, confusion.labels, rotation=45, ha="right")
    axes.set_yticks(ticks, confusion.labels)
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    axes.set_title(f"{confusion.title}\n{subtitle}", fontsize=9)
    if len(confusion.labels) <= 20:
        for (row, col), count in np.ndenumerate(matrix):
            if count:
                axes.text(col, row, str(count), ha="center", va="center", fontsize=7,
                          color="white" if shares[row, col] > 0.5 else "black")
    return _save(figure, path)


def _fewshot_plot(path: Path, run: TaskRun) -> Path:
    figure, axes = new_figure((5, 3.5))
    for role, result in (("model", run.result), ("baseline", run.baseline)):
        if result is None:
            continue
        keys = [k for k in result.metrics if not k.endswith(STD)]
        shots = [int(k.removeprefix("top1_").removesuffix("shot")) for k in keys]
        axes.errorbar(shots, [result.metrics[k] for k in keys], yerr=[result.metrics[k + STD] for k in keys],
                      marker="o", capsize=3, label=f"{role}: {result.model}")
    axes.set_xlabel("images per class (k)")
    axes.set_ylabel("top-1 accuracy (%)")
    axes.set_ylim(0, 100)
    axes.legend(fontsize=8)
    axes.grid(alpha=0.3)
    return _save(figure, path)


def _save(figure: Figure, path: Path) -> Path:
    figure.tight_layout()
    with atomic_file(path) as temporary:
        figure.savefig(temporary, dpi=110)
    return path


def _write_text(path: Path, text: str) -> Path:
    with atomic_text(path) as handle:
        handle.write(text)
    return path
