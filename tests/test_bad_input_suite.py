"""Bad input across every CLI (issue 17's proof): exit 2, one `error:` line naming the file or flag and the
problem, no traceback, and nothing new or changed in the folder the run was pointed at.

Each case builds what it needs in a fresh folder (a real raster, a real manifest...), runs the CLI's
`main` in this process, and compares the folder's whole tree before and after. Cases that need the
model to load use a checkpoint folder that does not exist, so every error here must come before it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Callable

import numpy as np
import pytest
from PIL import Image

from bad_input_helpers import one_error_line, tree
from paths import ROOT
from raster_helpers import write_raster
from sarclip_core.d2c.__main__ import main as d2c_main
from sarclip_core.data.split import main as split_main
from sarclip_core.evaluate.__main__ import main as evaluate_main
from sarclip_core.scene.__main__ import main as scene_main
from sarclip_core.train.__main__ import main as train_main

READ_ONLY = Path("/sys")  # sysfs refuses new files even to root (these tests run as root here)
MAINS = {"scene": scene_main, "d2c": d2c_main, "split": split_main, "evaluate": evaluate_main, "train": train_main}


def _scene(folder: Path) -> Path:
    return write_raster(folder / "scene.tif", np.random.default_rng(0).exponential(1.0, (96, 96)).astype(np.float32))


def _chips(folder: Path) -> Path:
    """images/<class>/ with two small PNG chips each (a class folder D2C, data.split and evaluate read)."""
    for name in ("T72", "BMP2"):
        (folder / "images" / name).mkdir(parents=True, exist_ok=True)
        for i in range(2):
            Image.fromarray(np.full((32, 32), 40 * i + 20, np.uint8)).save(folder / "images" / name / f"{i}.png")
    return folder / "images"


def _manifest(folder: Path, text: str, name: str = "captions.csv") -> Path:
    _chips(folder)
    (folder / name).write_text(text, encoding="utf-8")
    return folder / name


GOOD_CSV = "filepath,caption\nimages/T72/0.png,a T72 tank\nimages/BMP2/0.png,a BMP2\n"
NOT_JSON = '{"filepath": "images/T72/0.png", "captions": ["a tank"], "counts": {"T72": 1}}\n{not json\n'


def _checkpoint_like_folder(folder: Path) -> Path:
    (folder / "mine").mkdir()
    (folder / "mine" / "notes.txt").write_text("keep me")
    return folder / "mine"


# (name, CLI, argv builder (folder -> argv), words the one line must contain)
CASES: list[tuple[str, str, Callable[[Path], list[str]], list[str]]] = [
    # --- scene ---
    ("scene: missing raster", "scene", lambda f: [str(f / "no.tif"), "--query", "ship", "--out", str(f / "o")],
     ["no.tif", "not found"]),
    ("scene: not a raster", "scene", lambda f: [str(_manifest(f, "hello", "x.tif")), "--query", "ship", "--out",
                                                str(f / "o")], ["x.tif: not a readable raster"]),
    ("scene: empty query", "scene", lambda f: [str(_scene(f)), "--query", "  ", "--out", str(f / "o")],
     ["the query is empty"]),
    ("scene: one-label map", "scene", lambda f: [str(_scene(f)), "--labels", "T72", "--out", str(f / "o")],
     ["at least two labels", "T72"]),
    ("scene: repeated label", "scene", lambda f: [str(_scene(f)), "--labels", "ship, Ship", "--out", str(f / "o")],
     ["repeats a label"]),
    ("scene: count of background", "scene", lambda f: [str(_scene(f)), "--labels", "clutter, background", "--count",
                                                       "--out", str(f / "o")], ["nothing to count"]),
    ("scene: cell size 0", "scene", lambda f: [str(_scene(f)), "--query", "ship", "--count", "--cell-size", "0",
                                               "--out", str(f / "o")], ["--cell-size must be a positive size"]),
    ("scene: overlap 1.0", "scene", lambda f: [str(_scene(f)), "--query", "ship", "--overlap", "1.0", "--out",
                                               str(f / "o")], ["overlap 1.0 is ambiguous"]),
    ("scene: negative overlap", "scene", lambda f: [str(_scene(f)), "--query", "ship", "--overlap", "-0.2", "--out",
                                                    str(f / "o")], ["overlap"]),
    ("scene: malformed aoi", "scene", lambda f: [str(_scene(f)), "--query", "ship", "--aoi", "1,2,3", "--out",
                                                 str(f / "o")], ["--aoi must be"]),
    ("scene: --out is a file", "scene", lambda f: [str(_scene(f)), "--query", "ship", "--out",
                                                   str(_manifest(f, "x", "out"))], ["--out is a file"]),
    ("scene: --json is a folder", "scene", lambda f: [str(_scene(f)), "--query", "ship", "--out", str(f / "o"),
                                                      "--json", str(f)], ["--json is a folder"]),
    ("scene: missing example chip", "scene", lambda f: [str(_scene(f)), "--example", str(f / "chip.png"), "--out",
                                                        str(f / "o")], ["chip.png: --example image not found"]),
    ("scene: missing model", "scene", lambda f: [str(_scene(f)), "--query", "ship", "--out", str(f / "o"),
                                                 "--model", str(f / "no-model")], ["no-model"]),
    # --- d2c ---
    ("d2c: missing images folder", "d2c", lambda f: ["--format", "folder", "--images", str(f / "none"), "--out",
                                                     str(f / "c.csv")], ["none: classification folder not found"]),
    ("d2c: --out is a folder", "d2c", lambda f: ["--format", "folder", "--images", str(_chips(f)), "--out", str(f)],
     ["is a folder"]),
    ("d2c: zero composed scenes", "d2c", lambda f: ["--format", "compose", "--images", str(_chips(f)), "--scenes", "0",
                                                    "--out-images", str(f / "s"), "--out", str(f / "c.csv")],
     ["--scenes"]),
    ("d2c: negative scene size", "d2c", lambda f: ["--format", "compose", "--images", str(_chips(f)), "--scene-size",
                                                   "-5", "--out-images", str(f / "s"), "--out", str(f / "c.csv")],
     ["--scene-size"]),
    ("d2c: unreadable annotation", "d2c", lambda f: ["--format", "voc", "--annotations",
                                                     str(_manifest(f, "<annotation><broken", "a.xml").parent),
                                                     "--images", str(f / "images"), "--out", str(f / "c.csv")],
     ["no image to caption, nothing written", "a.xml", "malformed XML"]),
    ("d2c: annotation leaving the images folder", "d2c",
     lambda f: ["--format", "voc", "--strict", "--images", str(_chips(f)), "--out", str(f / "c.csv"), "--annotations",
                str(_manifest(f, "<annotation><filename>../../../../etc/passwd</filename></annotation>",
                              "a.xml").parent)],
     ["leaves the images folder", "refused"]),
    ("d2c: records not JSON", "d2c", lambda f: ["--format", "records", "--annotations",
                                                str(_manifest(f, NOT_JSON, "r.jsonl")), "--out", str(f / "c.csv")],
     ["no image to caption, nothing written", "r.jsonl"]),
    # --- data.split ---
    ("split: missing images", "split", lambda f: ["--images", str(f / "none"), "--out", str(f / "split")], ["none"]),
    ("split: missing manifest", "split", lambda f: ["--manifest", str(f / "m.csv"), "--out", str(f / "m.csv")],
     ["m.csv", "not found"]),
    ("split: val share 1.5", "split", lambda f: ["--images", str(_chips(f)), "--val", "1.5", "--out", str(f / "s")],
     ["--val must be between 0 and 1"]),
    ("split: --out is a file", "split", lambda f: ["--images", str(_chips(f)), "--out", str(_manifest(f, "x", "s"))],
     ["--out is a file"]),
    ("split: JSONL line not JSON", "split", lambda f: ["--manifest", str(_manifest(f, NOT_JSON, "m.jsonl")), "--out",
                                                       str(f / "m.jsonl")], ["m.jsonl:line 2", "not JSON"]),
    ("split: --out holds other files", "split", lambda f: ["--images", str(_chips(f)), "--out",
                                                           str(_checkpoint_like_folder(f))],
     ["not an earlier split"]),
    # --- evaluate ---
    ("evaluate: missing data", "evaluate", lambda f: ["zeroshot", "--data", str(f / "none")],
     ["none: --data not found"]),
    ("evaluate: missing config", "evaluate", lambda f: ["all", "--config", str(f / "c.yaml")],
     ["c.yaml: --config not found"]),
    ("evaluate: config not a task list", "evaluate", lambda f: ["all", "--config", str(_manifest(f, "tasks: 5",
                                                                                                 "c.yaml"))],
     ["c.yaml: needs a non-empty 'tasks' list"]),
    ("evaluate: config task input missing", "evaluate", lambda f: [
        "all", "--model", str(f / "no-model"), "--config",
        str(_manifest(f, "tasks:\n  - {task: zeroshot, data: " + str(_chips(f) / "T72") + "}\n"
                         "  - {task: pointing, format: jsonl, data: gone.jsonl, query: ship}\n", "c.yaml"))],
     ["c.yaml: task 2 (pointing): data", "gone.jsonl not found"]),
    ("evaluate: --json is a folder", "evaluate", lambda f: ["zeroshot", "--data", str(_chips(f)), "--json", str(f)],
     ["--json"]),
    ("evaluate: --report is a file", "evaluate", lambda f: ["zeroshot", "--data", str(_chips(f)), "--report",
                                                            str(_manifest(f, "x", "r"))], ["--report"]),
    ("evaluate: pointing records missing", "evaluate", lambda f: ["pointing", "--format", "jsonl", "--data",
                                                                  str(f / "r.jsonl"), "--query", "ship"],
     ["r.jsonl: --data not found"]),
    ("evaluate: malformed mask values", "evaluate", lambda f: ["segmentation", "--images", str(f), "--masks", str(f),
                                                               "--labels", "water, land", "--mask-values",
                                                               "1=water,zero=land"],
     ["--mask-values: 'zero=land' is not VALUE=label"]),
    ("evaluate: records not JSON", "evaluate", lambda f: ["counting", "--format", "jsonl", "--data",
                                                          str(_manifest(f, NOT_JSON, "r.jsonl"))],
     ["r.jsonl:line 2", "not JSON"]),
    # --- train ---
    ("train: missing data", "train", lambda f: ["--train-data", str(f / "none.csv"), "--logs", str(f / "logs")],
     ["none.csv: --train-data not found"]),
    ("train: one of two data files missing", "train", lambda f: ["--train-data",
                                                                 f"{_manifest(f, GOOD_CSV)}::{f / 'none.csv'}",
                                                                 "--logs", str(f / "logs")],
     ["none.csv: --train-data not found"]),
    ("train: CSV without its columns", "train", lambda f: ["--train-data", str(_manifest(f, "path,text\na,b\n")),
                                                           "--logs", str(f / "logs")],
     ["captions.csv", "filepath", "caption"]),
    ("train: JSONL line not JSON", "train", lambda f: ["--train-data", str(_manifest(f, NOT_JSON, "m.jsonl")),
                                                       "--logs", str(f / "logs")], ["m.jsonl:line 2", "not JSON"]),
    ("train: --out is a file", "train", lambda f: ["--train-data", str(_manifest(f, GOOD_CSV)), "--logs",
                                                   str(f / "logs"), "--out", str(_manifest(f, "x", "model.bin"))],
     ["model.bin"]),
    ("train: --out is someone's folder", "train", lambda f: ["--train-data", str(_manifest(f, GOOD_CSV)), "--logs",
                                                             str(f / "logs"), "--out", str(_checkpoint_like_folder(f))],
     ["mine"]),
    ("train: --logs is a file", "train", lambda f: ["--train-data", str(_manifest(f, GOOD_CSV)), "--logs",
                                                    str(_manifest(f, "x", "logs"))], ["--logs is a file"]),
    ("train: --logs in a read-only place", "train", lambda f: ["--train-data", str(_manifest(f, GOOD_CSV)), "--logs",
                                                               str(READ_ONLY / "sarclip-logs")],
     ["--logs: cannot write in"]),
    ("train: missing zero-shot folder", "train", lambda f: ["--train-data", str(_manifest(f, GOOD_CSV)), "--logs",
                                                            str(f / "logs"), "--val-zeroshot", str(f / "val")],
     ["val: --val-zeroshot not found"]),
]


@pytest.mark.parametrize("name, cli, make, words", CASES, ids=[case[0] for case in CASES])
def test_bad_input_is_one_line_and_leaves_everything_as_it_was(tmp_path, monkeypatch, capsys, name, cli, make, words):
    monkeypatch.setenv("SARCLIP_CACHE", str(tmp_path / "cache"))
    folder = tmp_path / "work"
    folder.mkdir()
    argv = make(folder)
    before = tree(tmp_path)
    assert MAINS[cli](argv) == 2
    line = one_error_line(capsys.readouterr().err, *words)
    assert len(line) < 400
    assert tree(tmp_path) == before  # nothing new, nothing changed, no index, no logs


def test_a_bad_cache_limit_in_the_environment_is_named_before_the_model_loads(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SARCLIP_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("SARCLIP_INDEX_CACHE_GB", "lots")
    folder = tmp_path / "work"
    folder.mkdir()
    argv = [str(_scene(folder)), "--query", "ship", "--model", str(folder / "no-model"), "--out", str(folder / "o")]
    before = tree(tmp_path)
    assert scene_main(argv) == 2
    one_error_line(capsys.readouterr().err, "SARCLIP_INDEX_CACHE_GB='lots'", "in GB")
    assert tree(tmp_path) == before


@pytest.mark.parametrize("module", ["sarclip_core.scene", "sarclip_core.d2c", "sarclip_core.data.split",
                                    "sarclip_core.evaluate", "sarclip_core.train", "sarclip_core.train.calibrate"])
def test_every_cli_prints_its_help(module):
    """--help is the first thing a new user types (d2c's crashed on a '%' in one help text)."""
    done = subprocess.run([sys.executable, "-m", module, "--help"], capture_output=True, text=True, cwd=ROOT,
                          timeout=120, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0 and "usage:" in done.stdout and "Traceback" not in done.stderr, done.stderr


def test_the_suite_covers_every_cli_with_forty_cases():
    assert len(CASES) >= 40 and {cli for _, cli, _, _ in CASES} == set(MAINS)
    assert json.dumps([name for name, *_ in CASES])  # readable ids
