"""Bad training input: exit 2 with one line naming file and row, no traceback; --skip-bad goes on and lists it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from bad_input_helpers import one_error_line
from sarclip_core.train.__main__ import main as train_main
from train_helpers import FAST, cli

GOOD = 4
# name: (CSV rows after the good ones, None for a wrong header; extra flags; what the one error line must say)
CASES = {
    "missing file": (["nowhere.png,a tank"], [], ["bad.csv:row 6", "image not found:", "nowhere.png"]),
    "unreadable image": (["garbage.png,a tank"], [], ["bad.csv:row 6", "garbage.png"]),
    "empty caption": (["good0.png,"], [], ["bad.csv:row 6", "empty caption"]),
    "wrong column": (None, [], ["bad.csv:row 1", "'filepath'"]),
    "batch larger than data": ([], ["--batch-size", "64"], ["fewer than one global batch", "--batch-size"]),
    "float16 amp on CPU": ([], ["--precision", "amp", "--device", "cpu"], ["--precision amp", "CUDA", "amp_bf16"]),
}


@pytest.fixture(scope="module")
def images(tmp_path_factory) -> Path:
    """A folder with a few good chips and a .png of garbage bytes."""
    root = tmp_path_factory.mktemp("bad")
    rng = np.random.default_rng(0)
    for i in range(GOOD):
        Image.fromarray(rng.integers(0, 255, (64, 64), dtype=np.uint8)).save(root / f"good{i}.png")
    (root / "garbage.png").write_bytes(rng.integers(0, 255, 300, dtype=np.uint8).tobytes())
    return root


def case_argv(root: Path, images: Path, name: str, rows: list[str] | None, flags: list[str]) -> list[str]:
    """Write the case's CSV under root (good rows first, bad ones after) and return its trainer flags."""
    case = root / name.replace(" ", "_")
    case.mkdir()
    header = "filepath,caption" if rows is not None else "path,caption"
    good = [f"{images}/good{i}.png,a SAR image of object {i}" for i in range(GOOD)]
    bad = [f"{images}/{row}" for row in rows or []]
    (case / "bad.csv").write_text("\n".join([header, *good, *bad]) + "\n", encoding="utf-8")
    return ["--train-data", str(case / "bad.csv"), "--batch-size", "2", "--max-steps", "1",
            "--logs", str(case / "logs"), "--name", "run", *flags, *FAST]


def check_one_line(err: str, name: str) -> None:
    assert "Traceback" not in err
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, err
    for words in CASES[name][2]:
        assert words in errors[0], errors[0]


@pytest.mark.parametrize("name", CASES)
def test_bad_input_is_one_clear_line(images, tmp_path, name, capsys):
    assert train_main(case_argv(tmp_path, images, name, *CASES[name][:2])) == 2
    check_one_line(capsys.readouterr().err, name)


def test_open_clip_s_workers_flag_is_refused_not_ignored(images, tmp_path, capsys):
    """Chips are held in memory, there are no loader processes: a --workers would do nothing, so it is not taken."""
    with pytest.raises(SystemExit) as stop:
        train_main(case_argv(tmp_path, images, "workers", [], ["--workers", "4"]))
    assert stop.value.code == 2 and "unrecognized arguments: --workers 4" in capsys.readouterr().err


def test_the_real_cli_exits_2_with_one_line(images, tmp_path):
    """The same through `python -m sarclip_core.train` (exit status and stderr of a real process)."""
    argv = case_argv(tmp_path, images, "unreadable image", *CASES["unreadable image"][:2])
    run = cli(*argv, cwd=tmp_path)
    _, err = run.communicate(timeout=120)
    assert run.returncode == 2, err[-2000:]
    check_one_line(err, "unreadable image")


def test_skip_bad_goes_on_and_lists_what_it_skipped(images, tmp_path, capsys):
    rows = [row for rows, _, _ in CASES.values() if rows for row in rows]
    argv = case_argv(tmp_path, images, "skip bad", rows, ["--skip-bad"])
    assert train_main(argv) == 0
    log = Path(argv[argv.index("--logs") + 1]) / "run" / "out.log"
    skipped = [line for line in log.read_text(encoding="utf-8").splitlines() if "skipped:" in line]
    assert len(skipped) == 3 and "done: 1 steps" in capsys.readouterr().out
    for words in ("row 6: image not found: ", "row 7: ", "garbage.png", "row 8: empty caption"):
        assert any(words in line for line in skipped), (words, skipped)


@pytest.mark.parametrize("kind", ["folder", "file", "checkpoint"])
def test_out_that_is_not_ours_to_replace_is_refused_before_training(images, tmp_path, kind, capsys):
    """--out on a foreign folder, a file, or (without --overwrite) an earlier checkpoint: one line, exit 2,
    nothing changed and no run started (no logs)."""
    out = tmp_path / "out"
    if kind == "file":
        out.write_text("keep me", encoding="utf-8")
    else:
        out.mkdir()
        (out / ("sarclip.json" if kind == "checkpoint" else "notes.txt")).write_text(
            json.dumps({"format": "sarclip-checkpoint/1"}) if kind == "checkpoint" else "keep me", encoding="utf-8")
    before = {p: p.read_bytes() for p in [out, *out.rglob("*")] if p.is_file()}
    argv = case_argv(tmp_path, images, f"out {kind}", [], []) + ["--out", str(out)]
    assert train_main(argv) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert err.startswith(f"error: {out}: --out ") and ("--overwrite" in err) == (kind == "checkpoint"), err
    assert {p: p.read_bytes() for p in [out, *out.rglob("*")] if p.is_file()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", f"out_{kind}"]
    assert not (tmp_path / f"out_{kind}" / "logs").exists()


def test_overwrite_replaces_an_earlier_checkpoint_whole(images, tmp_path, capsys):
    out = tmp_path / "out"
    argv = case_argv(tmp_path, images, "overwrite", [], []) + ["--out", str(out)]
    assert train_main(argv) == 0
    assert train_main(argv + ["--overwrite", "--labels", "tank"]) == 0
    assert json.loads((out / "sarclip.json").read_text(encoding="utf-8"))["labels"] == ["tank"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "overwrite"]  # no .old or staging leftovers


def test_a_resume_state_with_missing_keys_is_one_line(images, tmp_path, capsys):
    """A train_state.pt without its RNG states (foreign or damaged): one line naming it, the file left as it is."""
    argv = case_argv(tmp_path, images, "resume", [], [])
    assert train_main(argv) == 0
    state = tmp_path / "resume" / "logs" / "run" / "checkpoints" / "step_00000001" / "train_state.pt"
    payload = torch.load(state, weights_only=True)
    del payload["torch_rng"]
    torch.save(payload, state)
    before = state.read_bytes()
    capsys.readouterr()
    assert train_main(argv + ["--resume", "latest"]) == 2
    line = one_error_line(capsys.readouterr().err, str(state), "missing torch_rng")
    assert "KeyError" not in line and state.read_bytes() == before


def test_an_excel_csv_with_a_byte_order_mark_is_read(images, tmp_path, capsys):
    """Excel's "CSV UTF-8" starts with a byte-order mark; data.split reads it, so training does too."""
    argv = case_argv(tmp_path, images, "excel", [], [])
    manifest = Path(argv[argv.index("--train-data") + 1])
    manifest.write_text("\ufeff" + manifest.read_text(encoding="utf-8"), encoding="utf-8")
    assert train_main(argv) == 0, capsys.readouterr().err
    assert "done: 1 steps" in capsys.readouterr().out
