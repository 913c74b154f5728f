"""Wrong-number hard negatives for count captions (CountCLIP): which captions, how they are rewritten, the loss, a run."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from sarclip_core.train.counts import NEGATIVES, count_loss, stated_count, wrong_counts
from train_helpers import train


def test_a_plural_count_is_swapped_for_other_plural_counts_written_the_same_way():
    rng = random.Random(0)
    caption = "Two BTR60s; each is an eight-wheeled amphibious armoured personnel carrier"
    wrong = wrong_counts(caption, rng)
    assert len(wrong) == NEGATIVES and len(set(wrong)) == NEGATIVES and caption not in wrong
    for text in wrong:
        first, rest = text.split(" ", 1)
        assert first[0].isupper() and first.isalpha() and first != "Two"  # a capitalised number word
        assert rest == caption.split(" ", 1)[1]  # "eight-wheeled" is no count: left alone
        assert stated_count(text)[1] >= 2
    digits = wrong_counts("6 vehicles in total", rng)
    assert all(t.endswith(" vehicles in total") and t.split()[0].isdigit() and t.split()[0] != "6" for t in digits)


@pytest.mark.parametrize("caption", ["A BTR-60 near the bottom edge", "One vessel seen by radar",
                                     "3 ships and 2 tanks", "open sea, no ships", "a T72 tank",
                                     "an image at 37.7 degrees incidence", "A seaport, about 40% land"])
def test_captions_without_one_plural_count_get_no_negatives(caption):
    assert wrong_counts(caption, random.Random(0)) == []


def test_the_loss_is_low_when_the_image_prefers_its_own_count():
    torch.manual_seed(0)
    image = F.normalize(torch.randn(4, 8), dim=-1)
    wrong = F.normalize(torch.randn(4, NEGATIVES, 8), dim=-1)
    scale = torch.tensor(10.0)
    assert count_loss(image, image, wrong, scale) < count_loss(image, wrong[:, 0], torch.stack(
        [image, wrong[:, 1]], dim=1), scale)


def test_training_with_the_count_loss_runs_and_changes_the_weights(tmp_path):
    rng = np.random.default_rng(0)
    rows = ["filepath,caption"]
    for i in range(8):
        image = np.clip(rng.gamma(2.0, 20.0, (64, 64)), 0, 255)
        for k in range(2 + i % 3):
            image[8 + 16 * k:14 + 16 * k, 10:16] = 250
        Image.fromarray(image.astype(np.uint8)).save(tmp_path / f"s{i}.png")
        rows.append(f"s{i}.png,{['two', 'three', 'four'][i % 3]} ships in the scene")
    (tmp_path / "captions.csv").write_text("\n".join(rows) + "\n")
    for weight, name in ((0, "plain"), (1, "counts")):
        train("--stage", "clip", "--model", "sarclip-tiny-rn", "--train-data", tmp_path / "captions.csv",
              "--batch-size", "4", "--max-steps", "2", "--count-weight", str(weight), "--logs", tmp_path / "logs",
              "--name", name, "--precision", "fp32")
    losses = [json.loads(line)["loss"] for name in ("plain", "counts")
              for line in (tmp_path / "logs" / name / "steps.jsonl").read_text().splitlines()[:1]]
    assert losses[1] > losses[0]  # the same first batch, plus a positive count loss
