"""Stage 2's dense cell loss: cell targets from window records, the loss, a training run, and the calibration fit."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from sarclip_core.d2c.vocabulary import DEFAULT_VOCABULARY, load_vocabulary
from sarclip_core.data.cells import cell_classes, cell_targets
from sarclip_core.model import load_checkpoint
from sarclip_core.train.calibrate import main as calibrate_main
from sarclip_core.train.losses import dense_loss
from train_helpers import train

VOCABULARY = load_vocabulary(DEFAULT_VOCABULARY)


def _window(folder, name: str, seed: int, ship: tuple[int, int] | None, land_rows: int = 0) -> dict:
    """A 128 px speckle window (bright 12x12 ship at `ship`), its sea/land mask (land on the top rows), its record."""
    rng = np.random.default_rng(seed)
    image = np.clip(rng.gamma(2.0, 20.0, (128, 128)), 0, 255)
    image[:land_rows] = np.clip(image[:land_rows] * 3, 0, 255)
    boxes = []
    if ship:
        col, row = ship
        image[row:row + 12, col:col + 12] = 250
        boxes.append({"label": "ship", "bbox": [col, row, col + 12, row + 12]})
    mask = np.full((128, 128), 255, np.uint8)
    mask[:land_rows] = 0
    Image.fromarray(image.astype(np.uint8)).save(folder / f"{name}.png")
    Image.fromarray(mask).save(folder / f"{name}_mask.png")
    return {"filepath": f"{name}.png", "width": 128, "height": 128, "boxes": boxes,
            "counts": {"ship": len(boxes)}, "captions": ["a ship at sea" if ship else "open sea, no ships"],
            "context": {"mask_kind": "sealand", "mask": f"{name}_mask.png", "background": "open sea"}}


def _records(folder, count: int = 24) -> str:
    path = folder / "windows.jsonl"
    rows = [_window(folder, f"w{i:02d}", i, (20 + 3 * i, 70) if i % 2 == 0 else None, land_rows=32 * (i % 3 == 0))
            for i in range(count)]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return str(path)


def test_cells_of_a_window_name_the_ship_the_sea_and_the_land(tmp_path):
    record = _window(tmp_path, "a", 0, ship=(40, 70), land_rows=32)
    truth = {"boxes": record["boxes"], "context": record["context"], "manifest": str(tmp_path / "x.jsonl")}
    cells = cell_classes(truth, (128, 128), 4, VOCABULARY)
    assert cells[2][1] == {"ship"}  # the ship (40..52, 70..82) lies in cell row 2, column 1
    assert cells[0][0] == {"land"} and cells[3][3] == {"sea", "water"}
    targets = cell_targets(cells, ["land", "sea", "ship", "water"])
    assert targets.shape == (4, 4, 4) and targets[2, 1].tolist() == [False, False, True, False]
    assert cell_classes({"boxes": [], "context": {}}, (128, 128), 4, VOCABULARY) is None  # a chip: no dense truth


def test_dense_loss_is_low_when_cells_point_at_their_class_and_balances_objects():
    classes = torch.eye(3)  # ship, sea, land as orthogonal texts
    targets = torch.zeros(1, 2, 2, 3, dtype=torch.bool)
    targets[0, 0, 0, 0] = True  # one ship cell
    targets[0, 0, 1, 1] = targets[0, 1, 0, 1] = targets[0, 1, 1, 2] = True
    right = torch.stack([classes[0], classes[1], classes[1], classes[2]]).reshape(1, 2, 2, 3)
    wrong = torch.stack([classes[1], classes[1], classes[1], classes[2]]).reshape(1, 2, 2, 3)
    objects = torch.tensor([True, False, False])
    low, high = (dense_loss(c, classes, targets, torch.tensor(10.0), objects) for c in (right, wrong))
    assert low < 0.01 and high > 2.0  # missing the one ship cell costs half the loss, however many sea cells
    unlabelled = dense_loss(wrong, classes, torch.zeros_like(targets), torch.tensor(10.0), objects)
    assert unlabelled.item() == 0.0


def test_dense_training_moves_ship_cells_to_the_ship_text_and_calibration_is_written(tmp_path, capsys):
    data = _records(tmp_path)
    out = tmp_path / "model"
    train("--stage", "clip", "--train-data", data, "--model", "sarclip-tiny-rn", "--dense-weight", "1",
          "--batch-size", "8", "--epochs", "2", "--lr", "1e-3", "--logs", tmp_path / "logs", "--name", "dense",
          "--out", out)
    log = [json.loads(line) for line in (tmp_path / "logs" / "dense" / "steps.jsonl").read_text().splitlines()]
    assert len(log) == 6 and all(np.isfinite(row["loss"]) for row in log)
    assert calibrate_main([str(out), "--data", data]) == 0
    assert "calibration: temperature" in capsys.readouterr().out
    calibration = load_checkpoint(out).calibration
    assert calibration["temperature"] > 0 and "bias" in calibration and calibration["peak_threshold"] == 0.5
    assert calibrate_main([str(out), "--data", data, "--peaks-data", data, "--max-scenes", "4"]) == 0
    assert "peak threshold for ship: " in capsys.readouterr().out
    refitted = load_checkpoint(out).calibration
    assert refitted["temperature"] == calibration["temperature"]  # the same cells give the same fit
    assert 0.1 <= refitted["peak_threshold.ship"] < 1.0 and refitted["peak_threshold"] == 0.5


def test_dense_weight_without_dense_truth_is_one_clear_error(tmp_path, capsys):
    plain = tmp_path / "plain.jsonl"
    _window(tmp_path, "p", 0, None)
    plain.write_text(json.dumps({"filepath": "p.png", "captions": ["open sea"]}) + "\n")
    from sarclip_core.train.__main__ import main
    assert main(["--stage", "clip", "--train-data", str(plain), "--dense-weight", "1", "--batch-size", "1",
                 "--max-steps", "1", "--logs", str(tmp_path / "logs")]) == 2
    assert "--dense-weight: no training image has dense truth" in capsys.readouterr().err


@pytest.mark.parametrize("bad", ["[]", '{"filepath": "p.png", "captions": ["x"], "boxes": [{"bbox": [1, 2]}], '
                                       '"context": {"background": "clutter"}}'])
def test_malformed_dense_records_do_not_pass_silently(tmp_path, bad, capsys):
    _window(tmp_path, "p", 0, None)
    path = tmp_path / "bad.jsonl"
    path.write_text(bad + "\n")
    from sarclip_core.train.__main__ import main
    assert main(["--stage", "clip", "--train-data", str(path), "--dense-weight", "1", "--batch-size", "1",
                 "--max-steps", "1", "--logs", str(tmp_path / "logs")]) == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.startswith("error: ") and ("a box needs 'label' and 'bbox'" in last or "needs a 'filepath'" in last)
